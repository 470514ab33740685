-- no-transaction
-- 047: the btree index of message search (046 has the GIN index), built CONCURRENTLY: writes
-- to messages go on while it is built (on an instance upgraded with millions of messages it
-- holds every row, search_config NULL, so the build takes a while: about 8 s per 5 million
-- rows on 2 CPUs, docs/database.md).
--
-- The runner sends a "-- no-transaction" file as one statement outside a transaction, as sqlx
-- does; PostgreSQL refuses CREATE INDEX CONCURRENTLY when several statements are sent at once,
-- so this file holds exactly one.
--
-- What it serves: searches of the newest messages first (search_config = SEARCH_LANGUAGE,
-- ordered by created_at: a common word is found without reading all its matches), the
-- index_messages job's backlog (search_config IS NULL, newest first) and its re-indexing after
-- SEARCH_LANGUAGE changed. Messages classified as not indexable ('') are left out.
-- If the build is interrupted, PostgreSQL leaves an INVALID index behind that IF NOT EXISTS
-- then accepts; the server logs an error at startup naming the REINDEX that repairs it.

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_messages_search_recent ON messages
    (search_config, created_at DESC)
    WHERE search_config IS NULL OR search_config <> '';
