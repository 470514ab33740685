-- 046: indexed message search (ours; the original matched ILIKE on the decoded ciphertext,
-- which failed on the first encrypted row). See docs/decisions/0005-message-search.md.
--
-- Three nullable columns on messages, set by the server when a message is sent or edited
-- (services/search_text.py decides; SQL in repositories/messages.py):
--   search_text    the plaintext to search, folded for caseless matching (NFKC + case folding);
--                  NULL when there is nothing to search (encrypted or not yet classified).
--   search_config  the text-search configuration (SEARCH_LANGUAGE) that indexed search_text;
--                  '' once the server has classified the message as not indexable; NULL while
--                  it has not been classified (rows stored before this migration: the
--                  index_messages job classifies them, services/search_index.py).
--   search_tsv     to_tsvector(search_config, search_text), written by the trigger below only:
--                  kept in step by the database like a generated column, without the table
--                  rewrite that ADD COLUMN ... GENERATED ... STORED would cause.
-- Adding nullable columns without a default changes the catalog only, whatever the table size.
--
-- The GIN index covers both ways a message matches: words of its tsvector and substrings of its
-- text (pg_trgm trigrams, for LIKE '%q%'). It is partial (search_text IS NOT NULL): every row
-- existing when this runs has search_text NULL, so building it here reads the table once and
-- writes nothing (about a second per 5 million rows). It fills as messages are indexed. The
-- larger btree index on every row is built concurrently in 047.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE messages
    ADD COLUMN search_text TEXT,
    ADD COLUMN search_config TEXT,
    ADD COLUMN search_tsv TSVECTOR;

-- Text to search needs the configuration that indexed it. NOT VALID: the existing rows hold
-- NULL in both columns, so they satisfy it; checking them would read the whole table under
-- this migration's lock.
ALTER TABLE messages ADD CONSTRAINT messages_search_text_config
    CHECK (search_text IS NULL OR (search_config IS NOT NULL AND search_config <> '')) NOT VALID;

CREATE FUNCTION messages_search_tsv() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.search_text IS NULL THEN
        NEW.search_tsv := NULL;
    ELSE
        NEW.search_tsv := to_tsvector(NEW.search_config::regconfig, NEW.search_text);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER messages_search_tsv_insert
    BEFORE INSERT ON messages
    FOR EACH ROW WHEN (NEW.search_text IS NOT NULL OR NEW.search_tsv IS NOT NULL)
    EXECUTE FUNCTION messages_search_tsv();

CREATE TRIGGER messages_search_tsv_update
    BEFORE UPDATE OF search_text, search_config, search_tsv ON messages
    FOR EACH ROW
    EXECUTE FUNCTION messages_search_tsv();

-- A finer sample of the text (300,000 rows instead of 30,000), so that the planner's estimate
-- of how many messages contain a substring is good enough to choose between the newest-first
-- scan and the GIN index.
ALTER TABLE messages ALTER COLUMN search_text SET STATISTICS 1000;

CREATE INDEX idx_messages_search ON messages
    USING gin (search_tsv, search_text gin_trgm_ops)
    WHERE search_text IS NOT NULL;
