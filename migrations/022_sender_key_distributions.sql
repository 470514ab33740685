-- 022: sender key distributions (group E2E encryption), one per channel and
-- user.
-- Deliberate differences from the original:
--   * chain_id is BIGINT from the start, so it can hold any unsigned 32-bit
--     value (the original created it INTEGER and widened it in 044);
--   * new index idx_sender_key_distributions_user_id on the user_id column.
-- idx_sender_key_dist_channel is a prefix of the UNIQUE index; kept for parity.

CREATE TABLE sender_key_distributions (
    id           UUID PRIMARY KEY,
    channel_id   UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chain_id     BIGINT NOT NULL,
    distribution JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (channel_id, user_id)
);

CREATE INDEX idx_sender_key_dist_channel ON sender_key_distributions (channel_id);

CREATE INDEX idx_sender_key_distributions_user_id ON sender_key_distributions (user_id);
