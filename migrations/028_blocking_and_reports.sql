-- 028: user blocking and abuse reports.
-- user_blocks: who blocked whom (never oneself). reports: a report about a
-- message, user or file (target_id is polymorphic, so it has no foreign key),
-- its review status and the reviewing admin.
-- Deliberate differences from the original:
--   * reports.reviewed_by is ON DELETE SET NULL from the start (the original
--     had no action until 046);
--   * new index idx_reports_reviewed_by on that column.
-- idx_user_blocks_blocker is a prefix of the primary key; kept for parity.

CREATE TABLE user_blocks (
    blocker_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

CREATE INDEX idx_user_blocks_blocker ON user_blocks (blocker_id);
CREATE INDEX idx_user_blocks_blocked ON user_blocks (blocked_id);

CREATE TABLE reports (
    id          UUID PRIMARY KEY,
    reporter_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    report_type VARCHAR(32) NOT NULL,
    target_id   UUID NOT NULL,
    reason      TEXT NOT NULL,
    status      VARCHAR(32) NOT NULL DEFAULT 'pending',
    reviewed_by UUID REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at TIMESTAMPTZ,
    admin_notes TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_reports_status ON reports (status) WHERE status = 'pending';
CREATE INDEX idx_reports_reporter ON reports (reporter_id);
CREATE INDEX idx_reports_target ON reports (target_id);

CREATE INDEX idx_reports_reviewed_by ON reports (reviewed_by);
