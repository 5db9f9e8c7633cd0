-- Working state of calls driven by webhooks (Twilio): one row per live call,
-- so that any verzet process can take the call's next webhook. Unlike the
-- evidence tables these rows are updated (optimistic concurrency on version)
-- and deleted: serve purges them a day after their last update. Times are
-- TEXT in the fixed-width UTC form of 001_init.sql.

CREATE TABLE call_states (
    provider   TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version > 0),
    data       BLOB    NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (provider, ref)
) STRICT;

CREATE INDEX call_states_updated_at ON call_states (provider, updated_at);

---- create above / drop below ----

DROP TABLE call_states;
