-- 009: direct-message pairs.
-- Maps an ordered pair of users (user_a < user_b, compared as uuid) to their DM
-- channel; the primary key makes each pair unique and a UNIQUE index makes each
-- DM channel belong to exactly one pair.
-- Deliberate difference from the original: user_a and user_b are
-- ON DELETE CASCADE from the start (the original had no action until 046), so
-- deleting a user removes their DM pairings.

CREATE TABLE dm_pairs (
    user_a     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_b     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id UUID NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_a, user_b),
    CONSTRAINT dm_pairs_ordered CHECK (user_a < user_b)
);

CREATE UNIQUE INDEX idx_dm_pairs_channel ON dm_pairs (channel_id);
