-- 040: admin-tunable instance settings (key/value text rows).
-- Same table as the original's 048, with its three seed rows (the original seeded
-- e2e_enabled in 049). Values are strings; the server validates and clamps them.
-- registration_mode is not seeded: until an admin sets it, REGISTRATION_MODE from
-- the environment applies.

CREATE TABLE instance_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO instance_settings (key, value) VALUES
    ('max_messages_cache', '500'),
    ('max_pins_per_channel', '50'),
    ('e2e_enabled', 'true')
ON CONFLICT (key) DO NOTHING;
