// Voice calls: one RTCPeerConnection per other participant (a mesh; the server only relays the
// signalling, docs/protocol.md "Voice calls"). Of each pair the user with the lower id offers.
// Audio only; a speaking indicator from an analyser per stream.

import { realtime } from "./ws.js";
import { app, toast } from "./state.js";
import { createStore } from "./store.js";

export const call = createStore({
  channelId: null, // the call we are in (or joining)
  participants: {}, // channel id -> user id[] (every call we know of)
  muted: false,
  speaking: {}, // user id -> true while speaking
  error: null,
});

let localStream = null;
let sessionId = null;
const peers = new Map(); // user id -> {pc, pending: [], audio}
const meters = new Map(); // user id -> stop function
let audioContext = null;
let queue = Promise.resolve();

function me() {
  return app.get().me?.id;
}

function iceServers() {
  const servers = app.get().config?.ice_servers;
  return Array.isArray(servers) ? servers : [];
}

function signal(type, target, payload) {
  realtime.send({ type, target_user_id: target, session_id: sessionId, ...payload });
}

function meter(userId, stream) {
  if (meters.has(userId)) meters.get(userId)();
  try {
    audioContext = audioContext || new AudioContext();
    const source = audioContext.createMediaStreamSource(stream);
    const analyser = audioContext.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const value of samples) peak = Math.max(peak, Math.abs(value - 128));
      const speaking = peak > 12 && !(userId === me() && call.get().muted);
      if (Boolean(call.get().speaking[userId]) !== speaking) {
        call.set((state) => ({ ...state, speaking: { ...state.speaking, [userId]: speaking } }));
      }
    }, 150);
    meters.set(userId, () => {
      clearInterval(timer);
      source.disconnect();
    });
  } catch {
    // no audio analysis available: no speaking indicator
  }
}

function peer(otherId) {
  let entry = peers.get(otherId);
  if (entry) return entry;
  const pc = new RTCPeerConnection({ iceServers: iceServers() });
  const audio = new Audio();
  audio.autoplay = true;
  entry = { pc, pending: [], audio };
  peers.set(otherId, entry);
  for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
  pc.onicecandidate = (event) => {
    if (event.candidate) {
      signal("rtc_ice_candidate", otherId, { candidate: JSON.stringify(event.candidate.toJSON()) });
    }
  };
  pc.ontrack = (event) => {
    const [stream] = event.streams;
    if (!stream) return;
    audio.srcObject = stream;
    audio.play().catch(() => {});
    meter(otherId, stream);
  };
  return entry;
}

function dropPeer(otherId) {
  const entry = peers.get(otherId);
  if (!entry) return;
  entry.pc.close();
  entry.audio.srcObject = null;
  peers.delete(otherId);
  if (meters.has(otherId)) meters.get(otherId)();
  meters.delete(otherId);
}

async function drain(entry) {
  for (const candidate of entry.pending.splice(0)) await entry.pc.addIceCandidate(candidate);
}

async function onVoiceState(frame) {
  call.set((state) => ({
    ...state,
    participants: { ...state.participants, [frame.channel_id]: frame.participants },
  }));
  if (frame.channel_id !== call.get().channelId || !localStream) return;
  const present = new Set(frame.participants);
  for (const otherId of [...peers.keys()]) if (!present.has(otherId)) dropPeer(otherId);
  for (const otherId of frame.participants) {
    if (otherId === me() || peers.has(otherId)) continue;
    if (me() < otherId) {
      const { pc } = peer(otherId);
      await pc.setLocalDescription(await pc.createOffer());
      signal("rtc_offer", otherId, { sdp: pc.localDescription.sdp });
    } else {
      peer(otherId); // the other side offers; be ready for its candidates
    }
  }
}

async function onOffer(frame) {
  if (!localStream) return;
  const entry = peer(frame.from_user_id);
  await entry.pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
  await drain(entry);
  await entry.pc.setLocalDescription(await entry.pc.createAnswer());
  signal("rtc_answer", frame.from_user_id, { sdp: entry.pc.localDescription.sdp });
}

async function onAnswer(frame) {
  const entry = peers.get(frame.from_user_id);
  if (!entry) return;
  await entry.pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
  await drain(entry);
}

async function onCandidate(frame) {
  if (!localStream) return;
  const entry = peer(frame.from_user_id);
  let candidate;
  try {
    candidate = JSON.parse(frame.candidate);
  } catch {
    return;
  }
  if (entry.pc.remoteDescription) await entry.pc.addIceCandidate(candidate);
  else entry.pending.push(candidate);
}

function serially(handler) {
  // frames are handled in arrival order: an answer must not overtake its offer
  return (frame) => {
    queue = queue.then(() => handler(frame)).catch((error) => console.warn("voice:", error));
  };
}

realtime.on("voice_state_update", serially(onVoiceState));
realtime.on("rtc_offer", serially(onOffer));
realtime.on("rtc_answer", serially(onAnswer));
realtime.on("rtc_ice_candidate", serially(onCandidate));
realtime.on("user_left_voice", (frame) => {
  if (frame.channel_id === call.get().channelId) dropPeer(frame.user_id);
});
realtime.on("kicked_from_voice", (frame) => {
  if (frame.user_id === me() && frame.channel_id === call.get().channelId) {
    hangUp(false);
    toast("You were removed from the voice call.", "info");
  }
});
realtime.on("ready", ({ reconnected }) => {
  // after a reconnect the server has dropped us from the call: join again
  const channelId = call.get().channelId;
  if (reconnected && channelId && localStream) {
    for (const otherId of [...peers.keys()]) dropPeer(otherId);
    realtime.send({ type: "join_voice", channel_id: channelId });
  }
});

export async function joinCall(channelId) {
  if (call.get().channelId === channelId) return;
  if (call.get().channelId) hangUp(true);
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  } catch (error) {
    call.set({ error: "No microphone: " + error.message });
    toast("Could not use the microphone: " + error.message);
    return;
  }
  sessionId = crypto.randomUUID();
  call.set({ channelId, error: null, muted: false });
  meter(me(), localStream);
  if (!realtime.send({ type: "join_voice", channel_id: channelId })) {
    toast("Not connected: try again in a moment.");
    hangUp(false);
  }
}

export function hangUp(tellServer = true) {
  const channelId = call.get().channelId;
  if (tellServer && channelId) realtime.send({ type: "leave_voice", channel_id: channelId });
  for (const otherId of [...peers.keys()]) dropPeer(otherId);
  if (meters.has(me())) meters.get(me())();
  meters.clear();
  if (localStream) for (const track of localStream.getTracks()) track.stop();
  localStream = null;
  call.set({ channelId: null, speaking: {}, muted: false });
}

export function toggleMute() {
  if (!localStream) return;
  const muted = !call.get().muted;
  for (const track of localStream.getAudioTracks()) track.enabled = !muted;
  call.set({ muted });
}

/** Connection states per peer, for the voice view (and tests). */
export function peerStates() {
  return Object.fromEntries([...peers].map(([id, entry]) => [id, entry.pc.connectionState]));
}

window.addEventListener("beforeunload", () => hangUp(true));
