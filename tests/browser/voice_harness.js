// A minimal voice-call client for tests/browser: it speaks the Chatalot protocol the way the
// web client does (docs/protocol.md; spec ws-auth-ops 1.7, 1.8, 1.12) and nothing more.
//
//   await window.voiceHarness.start({ token, userId, channelId })
//
// opens /ws, authenticates, takes audio and video from the (fake) devices, subscribes to the
// channel and joins its voice session. On every `voice_state_update` it keeps one
// RTCPeerConnection per other participant; of each pair, the user with the lower id makes the
// offer. Offers, answers and ICE candidates travel as `rtc_*` frames. Every frame the server
// sends is recorded in `frames`, so a test can check what arrived (and what did not).
"use strict";

(() => {
  const harness = {
    frames: [], // every frame received, in order
    sent: [], // every frame sent, in order
    errors: [], // client-side failures (exceptions in handlers)
    peers: new Map(), // other user id -> { pc, pendingCandidates: [] }
    ws: null,
    userId: null,
    channelId: null,
    sessionId: null,
    localStream: null,
    authenticated: false,
  };

  function send(frame) {
    harness.sent.push(frame);
    harness.ws.send(JSON.stringify(frame));
  }

  function note(where, err) {
    harness.errors.push(`${where}: ${err && err.message ? err.message : String(err)}`);
  }

  function peer(otherId) {
    let entry = harness.peers.get(otherId);
    if (entry) return entry;
    // Loopback only: host candidates are enough, no STUN or TURN server.
    const pc = new RTCPeerConnection({ iceServers: [] });
    entry = { pc, pendingCandidates: [] };
    harness.peers.set(otherId, entry);
    for (const track of harness.localStream.getTracks()) {
      pc.addTrack(track, harness.localStream);
    }
    pc.onicecandidate = (event) => {
      if (!event.candidate) return;
      send({
        type: "rtc_ice_candidate",
        target_user_id: otherId,
        session_id: harness.sessionId,
        candidate: JSON.stringify(event.candidate.toJSON()),
      });
    };
    return entry;
  }

  async function offer(otherId) {
    const { pc } = peer(otherId);
    await pc.setLocalDescription(await pc.createOffer());
    send({
      type: "rtc_offer",
      target_user_id: otherId,
      session_id: harness.sessionId,
      sdp: pc.localDescription.sdp,
    });
  }

  async function drain(entry) {
    const queued = entry.pendingCandidates.splice(0);
    for (const candidate of queued) {
      await entry.pc.addIceCandidate(candidate);
    }
  }

  async function onVoiceState(frame) {
    if (frame.channel_id !== harness.channelId) return;
    const present = new Set(frame.participants);
    for (const [otherId, entry] of harness.peers) {
      if (!present.has(otherId)) {
        entry.pc.close();
        harness.peers.delete(otherId);
      }
    }
    for (const otherId of frame.participants) {
      if (otherId === harness.userId || harness.peers.has(otherId)) continue;
      if (harness.userId < otherId) {
        await offer(otherId);
      } else {
        peer(otherId); // the other side offers; be ready for its candidates
      }
    }
  }

  async function onOffer(frame) {
    const entry = peer(frame.from_user_id);
    await entry.pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
    await drain(entry);
    await entry.pc.setLocalDescription(await entry.pc.createAnswer());
    send({
      type: "rtc_answer",
      target_user_id: frame.from_user_id,
      session_id: harness.sessionId,
      sdp: entry.pc.localDescription.sdp,
    });
  }

  async function onAnswer(frame) {
    const entry = harness.peers.get(frame.from_user_id);
    if (!entry) return;
    await entry.pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
    await drain(entry);
  }

  async function onCandidate(frame) {
    const entry = peer(frame.from_user_id);
    const candidate = JSON.parse(frame.candidate);
    if (entry.pc.remoteDescription) {
      await entry.pc.addIceCandidate(candidate);
    } else {
      entry.pendingCandidates.push(candidate);
    }
  }

  const handlers = {
    voice_state_update: onVoiceState,
    rtc_offer: onOffer,
    rtc_answer: onAnswer,
    rtc_ice_candidate: onCandidate,
  };

  // Frames are handled one at a time, in arrival order (an answer must not overtake its offer).
  let queue = Promise.resolve();

  function onMessage(event) {
    const frame = JSON.parse(event.data);
    harness.frames.push(frame);
    if (frame.type === "authenticated") harness.authenticated = true;
    const handler = handlers[frame.type];
    if (!handler) return;
    queue = queue.then(() => handler(frame)).catch((err) => note(frame.type, err));
  }

  harness.start = async ({ token, userId, channelId }) => {
    harness.userId = userId;
    harness.channelId = channelId;
    harness.sessionId = crypto.randomUUID();
    harness.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    harness.ws = new WebSocket(`${scheme}//${location.host}/ws`);
    harness.ws.onmessage = onMessage;
    await new Promise((resolve, reject) => {
      harness.ws.onopen = resolve;
      harness.ws.onerror = () => reject(new Error("WebSocket failed"));
    });
    send({ type: "authenticate", token });
    const deadline = Date.now() + 10000;
    while (!harness.authenticated) {
      if (Date.now() > deadline) throw new Error("not authenticated within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    send({ type: "subscribe", channel_ids: [channelId] });
    send({ type: "join_voice", channel_id: channelId });
  };

  harness.send = send;

  // What a test polls: connection states per peer, and received frame types.
  harness.summary = () => ({
    states: Object.fromEntries([...harness.peers].map(([id, e]) => [id, e.pc.connectionState])),
    errors: harness.errors.slice(),
    frameTypes: harness.frames.map((f) => f.type),
  });

  // Bytes of media received from each peer (inbound-rtp), to show that media flows.
  harness.inboundBytes = async () => {
    const result = {};
    for (const [otherId, entry] of harness.peers) {
      let bytes = 0;
      const stats = await entry.pc.getStats();
      stats.forEach((report) => {
        if (report.type === "inbound-rtp") bytes += report.bytesReceived || 0;
      });
      result[otherId] = bytes;
    }
    return result;
  };

  window.voiceHarness = harness;
})();
