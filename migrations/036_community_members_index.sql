-- 036: index of community members by community.
-- (It duplicates the leading column of the primary key; kept for parity.)
-- Deliberate differences from the original: none.

CREATE INDEX idx_community_members_community ON community_members (community_id);
