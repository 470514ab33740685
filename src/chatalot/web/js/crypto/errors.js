// The one error type of the end-to-end encryption core. Every failure the core detects (a bad
// signature, a message that does not decrypt, a wire text that is not a Chatalot message, a
// session file that does not load) is thrown as a CryptoError whose `code` names the case, so
// the interface can say what happened instead of showing a stack trace or garbled text.
//
// Codes: bad_input (a caller passed something of the wrong type or length), bad_key (a public
// key the curve rejects), bad_signature, decrypt_failed, replayed (an old message whose key is
// gone), too_many_skipped, no_sending_chain, unknown_chain, unknown_prekey, bad_wire, bad_state,
// not_serializable (the original crate's state JSON cannot express this state).

export class CryptoError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "CryptoError";
    this.code = code;
  }
}

export function fail(code, message) {
  throw new CryptoError(code, message);
}
