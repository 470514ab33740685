// One import for the whole end-to-end encryption core (no UI, no network, no storage): each
// module's header says what it does.

export { CryptoError } from "./errors.js";
export * as bytes from "./bytes.js";
export * as primitives from "./primitives.js";
export * as x3dh from "./x3dh.js";
export * as ratchet from "./ratchet.js";
export * as senderKeys from "./senderkeys.js";
export * as wire from "./wire.js";
export * as fingerprints from "./fingerprint.js";
