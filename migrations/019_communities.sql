-- 019: communities (the top-level container: community -> groups -> channels).
-- Creates communities, community_members, community_invites (16-character
-- codes) and community_bans, and attaches every group to a community.
-- Upgrade step: when the database already holds users (or groups), one
-- community named 'General' is created, owned by the earliest-created admin
-- (or else the earliest user); all existing groups are moved into it and every
-- user becomes a member (role 'owner' for the chosen owner, 'admin' for other
-- admins, 'member' otherwise). On an empty database this step does nothing.
-- Afterwards groups.community_id is made NOT NULL.
-- Deliberate differences from the original:
--   * communities.owner_id is nullable and ON DELETE SET NULL (the original kept
--     it NOT NULL, so deleting a community owner failed);
--   * community_invites.created_by and community_bans.banned_by are nullable and
--     ON DELETE SET NULL from the start (the original fixed them in 041);
--   * the upgrade step also runs when groups exist but no user does (a state
--     the original could not reach), so that the NOT NULL step cannot fail;
--   * new indexes idx_communities_owner_id, idx_community_invites_community_id,
--     idx_community_invites_created_by, idx_community_bans_user_id,
--     idx_community_bans_banned_by and idx_groups_community_id on foreign key
--     columns.

CREATE TABLE communities (
    id          UUID PRIMARY KEY,
    name        VARCHAR(64) NOT NULL,
    description TEXT,
    icon_url    TEXT,
    owner_id    UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_communities_owner_id ON communities (owner_id);

CREATE TABLE community_members (
    community_id UUID NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         VARCHAR(16) NOT NULL DEFAULT 'member',
    nickname     VARCHAR(64),
    joined_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, user_id)
);

CREATE INDEX idx_community_members_user ON community_members (user_id);

CREATE TABLE community_invites (
    id           UUID PRIMARY KEY,
    community_id UUID NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    code         VARCHAR(16) NOT NULL UNIQUE,
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    max_uses     INTEGER,
    used_count   INTEGER NOT NULL DEFAULT 0,
    expires_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idx_community_invites_community_id ON community_invites (community_id);
CREATE INDEX idx_community_invites_created_by ON community_invites (created_by);

CREATE TABLE community_bans (
    community_id UUID NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by    UUID REFERENCES users (id) ON DELETE SET NULL,
    reason       TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, user_id)
);

CREATE INDEX idx_community_bans_user_id ON community_bans (user_id);
CREATE INDEX idx_community_bans_banned_by ON community_bans (banned_by);

ALTER TABLE groups ADD COLUMN community_id UUID REFERENCES communities (id) ON DELETE CASCADE;

CREATE INDEX idx_groups_community_id ON groups (community_id);

-- Upgrade step (a single statement; does nothing when there is no user and no
-- group). Foreign keys are checked at the end of the statement, after the new
-- community row exists.
WITH first_owner AS (
    SELECT u.id
    FROM users AS u
    ORDER BY u.is_admin DESC, u.created_at ASC, u.id ASC
    LIMIT 1
),
general AS (
    INSERT INTO communities (id, name, description, owner_id)
    SELECT gen_random_uuid(), 'General', 'Default community', (SELECT id FROM first_owner)
    WHERE EXISTS (SELECT 1 FROM users)
       OR EXISTS (SELECT 1 FROM groups WHERE community_id IS NULL)
    RETURNING id, owner_id
),
moved_groups AS (
    UPDATE groups AS g
    SET community_id = general.id
    FROM general
    WHERE g.community_id IS NULL
    RETURNING g.id
)
INSERT INTO community_members (community_id, user_id, role)
SELECT general.id,
       u.id,
       CASE
           WHEN u.id = general.owner_id THEN 'owner'
           WHEN u.is_admin THEN 'admin'
           ELSE 'member'
       END
FROM general
CROSS JOIN users AS u;

ALTER TABLE groups ALTER COLUMN community_id SET NOT NULL;
