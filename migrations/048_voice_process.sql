-- 048: which server process holds each voice participant (not in the original).
-- server_process is the id of the `chatalot serve` process whose WebSocket session joined the
-- call (its Redis process id, or a random id per process without Redis). When that process
-- stops without cleaning up (crash, kill, restart), the participants it held are marked left:
-- by the survivors once its heartbeat is gone, or at the next start of a single process.
-- NULL: rows written before this migration (treated as held by a process that is gone).
-- Adding a nullable column without a default rewrites nothing.

ALTER TABLE voice_session_participants ADD COLUMN server_process TEXT;

CREATE INDEX idx_voice_participants_process
    ON voice_session_participants (server_process) WHERE left_at IS NULL;
