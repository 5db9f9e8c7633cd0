-- Per-org dialogue settings (profile, keys, timeouts, what happens after the
-- dialogue), as JSON text; '{}' means the defaults.
ALTER TABLE orgs ADD COLUMN ivr text NOT NULL DEFAULT '{}';

---- create above / drop below ----

ALTER TABLE orgs DROP COLUMN ivr;
