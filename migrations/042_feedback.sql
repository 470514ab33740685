-- 042: in-app feedback (ours). The original only forwarded feedback to a GitHub
-- issue; we keep every submission, and remember the issue number when forwarding
-- is configured.

CREATE TABLE feedback (
    id                  UUID PRIMARY KEY,
    user_id             UUID REFERENCES users (id) ON DELETE SET NULL,
    category            VARCHAR(16) NOT NULL,
    title               VARCHAR(200) NOT NULL,
    description         TEXT NOT NULL,
    screenshot          BYTEA,
    screenshot_type     VARCHAR(64),
    github_issue_number INTEGER,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_feedback_user_id ON feedback (user_id);

CREATE INDEX idx_feedback_created_at ON feedback (created_at DESC);
