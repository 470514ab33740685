// The WebSocket (/ws), the one place the client speaks the realtime protocol (docs/protocol.md).
// One connection per tab: authenticate, keep the subscriptions, reconnect with backoff after a
// network loss or a server restart, renew the token on `unauthorized`, and tell the app when it
// (re)connected so it can refetch what it missed.

import { session } from "./session.js";
import { refreshSession } from "./api.js";

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const SILENCE_MS = 45_000; // the server sends a heartbeat every 15 s
const SUBSCRIBE_BATCH = 200;

export const clientVersion =
  document.querySelector('meta[name="chatalot-version"]')?.content || "unknown";

class Realtime {
  constructor() {
    this.socket = null;
    this.state = "idle"; // idle | connecting | open | closed
    this.handlers = new Map();
    this.subscriptions = new Set();
    this.attempt = 0;
    this.retryTimer = null;
    this.silenceTimer = null;
    this.everConnected = false;
    this.stopped = true;
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state === "closed") this.reconnectNow();
    });
  }

  /** Listen to one frame type ("*" for all, "status" for connection changes, "ready" after
   * each successful authentication with {reconnected}). Returns the unsubscribe function. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  emit(type, payload) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(payload);
      } catch (error) {
        console.error("handler of", type, "failed:", error);
      }
    }
  }

  setState(state) {
    this.state = state;
    this.emit("status", state);
  }

  start() {
    this.stopped = false;
    if (this.state === "idle" || this.state === "closed") this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.silenceTimer);
    this.subscriptions.clear();
    this.everConnected = false;
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    this.setState("idle");
  }

  connect() {
    clearTimeout(this.retryTimer);
    const token = session.accessToken;
    if (!token || this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    this.setState("connecting");
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "authenticate", token }));
      this.watchSilence();
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.watchSilence();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame, token);
    };
    socket.onclose = () => {
      if (socket !== this.socket) return;
      clearTimeout(this.silenceTimer);
      this.socket = null;
      this.setState("closed");
      this.scheduleRetry();
    };
  }

  receive(frame, token) {
    if (frame.type === "authenticated") {
      this.attempt = 0;
      const reconnected = this.everConnected;
      this.everConnected = true;
      this.setState("open");
      this.checkVersion(frame.server_version);
      this.sendSubscriptions([...this.subscriptions]);
      this.emit("ready", { reconnected, userId: frame.user_id });
      return;
    }
    if (frame.type === "error" && frame.code === "unauthorized" && this.state !== "open") {
      // the access token expired: renew it, then connect again at once
      this.socket.onclose = null;
      this.socket.close();
      this.socket = null;
      refreshSession(token)
        .then((renewed) => {
          if (renewed) this.connect();
          else this.emit("signed_out");
        })
        .catch(() => this.scheduleRetry());
      return;
    }
    this.emit(frame.type, frame);
    this.emit("*", frame);
  }

  checkVersion(serverVersion) {
    if (!serverVersion || serverVersion === "unknown" || clientVersion === "unknown") return;
    if (serverVersion === clientVersion) return;
    // a new client was deployed: load it (once per version, never a reload loop)
    const key = "chatalot.reloaded_for";
    if (sessionStorage.getItem(key) === serverVersion) return;
    sessionStorage.setItem(key, serverVersion);
    location.reload();
  }

  watchSilence() {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      // nothing for 45 s: the connection is dead without having closed
      if (this.socket) this.socket.close();
    }, SILENCE_MS);
  }

  scheduleRetry() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.state === "open" || this.state === "connecting") return;
    this.attempt = 0;
    this.connect();
  }

  /** Sends a frame; false when not connected (the caller tells the user). */
  send(frame) {
    if (!this.socket || this.state !== "open") return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  subscribe(channelIds) {
    const fresh = channelIds.filter((channelId) => !this.subscriptions.has(channelId));
    for (const channelId of fresh) this.subscriptions.add(channelId);
    if (this.state === "open") this.sendSubscriptions(fresh);
  }

  unsubscribe(channelIds) {
    for (const channelId of channelIds) this.subscriptions.delete(channelId);
    if (this.state === "open" && channelIds.length)
      this.send({ type: "unsubscribe", channel_ids: channelIds });
  }

  sendSubscriptions(ids) {
    for (let start = 0; start < ids.length; start += SUBSCRIBE_BATCH) {
      this.send({ type: "subscribe", channel_ids: ids.slice(start, start + SUBSCRIBE_BATCH) });
    }
  }
}

export const realtime = new Realtime();
