// Server events that concern encryption keys: a member's new sender key, a channel whose keys
// must change, our one-time prekeys running low, a deleted message whose kept text must go.
// Also retries starting encryption after the connection comes back when the server could not be
// reached at first.

import { realtime } from "../ws.js";
import { session } from "../session.js";
import { encryption, startEncryption } from "./account.js";

function withEngine(task) {
  const { engine, status } = encryption.get();
  if (status === "ready" && engine) task(engine).catch(() => {});
}

export function wireEncryptionEvents() {
  realtime.on("sender_key_updated", (frame) => withEngine((engine) => engine.senderKeyUpdated(frame)));
  realtime.on("sender_key_rotation_required", (frame) =>
    withEngine((engine) => engine.rotateChannel(frame.channel_id)),
  );
  realtime.on("keys_low", () => withEngine((engine) => engine.topUp()));
  realtime.on("message_deleted", (frame) => withEngine((engine) => engine.forgetMessage(frame.message_id)));
  realtime.on("ready", () => {
    const { status } = encryption.get();
    if (status === "unavailable" && session.user) startEncryption(session.user.id);
  });
}
