// The bytes of a message this client sends: plain UTF-8 on servers with end-to-end encryption
// off, otherwise encrypted by the engine (a DM for its peer, a channel with our sender key).
// While encryption is not ready nothing is sent, so no plaintext goes where ciphertext is expected.

import { app } from "../state.js";
import { encodeText } from "../content.js";
import { encryption } from "./account.js";

export class NotEncryptedError extends Error {}

export function encryptionRequired() {
  const { config } = app.get();
  return Boolean(config && config.e2e_enabled);
}

/** {ciphertext, nonce} for text sent in channelId. */
export async function sealText(channelId, text) {
  if (!encryptionRequired()) return encodeText(text);
  const { status, engine } = encryption.get();
  if (status !== "ready" || !engine) {
    throw new NotEncryptedError(
      status === "locked"
        ? "Encryption is locked in this browser: enter your password in the notice above first."
        : "Encryption is not ready yet, so the message was not sent.",
    );
  }
  const state = app.get();
  const channel = state.channels[channelId];
  const dm = (state.dms || []).find((item) => item.channel && item.channel.id === channelId);
  if (dm) return engine.encryptDm(dm.other_user.id, text);
  if (!channel || channel.channel_type === "dm") {
    // never fall back to a sender key for a DM whose peer is not known yet
    throw new NotEncryptedError("This conversation is still loading: try again in a moment.");
  }
  return engine.encryptGroup(channelId, text);
}
