-- The honour evidence of docs/compliance.md §3.3, as in objections/postgres: every
-- blocked dial-time check (GET /v1/callability) one row each with the list
-- version (events.seq of the log head) its facts were read at, counts per
-- day of all checks, and the first blocked check of each objection.
-- objections/httpapi writes them in batches, one transaction each; a check
-- never waits for this log. A scrub is not a dial attempt: it is not logged.
-- Times are TEXT in the fixed-width UTC form of 001_init.sql.

CREATE TABLE decisions (
    id           TEXT    NOT NULL PRIMARY KEY, -- ULID of decided_at
    decided_at   TEXT    NOT NULL,
    org          TEXT    NOT NULL,
    number       TEXT    NOT NULL,
    person_id    TEXT    NOT NULL DEFAULT '',
    callable     INTEGER NOT NULL CHECK (callable IN (0, 1)),
    basis        TEXT    NOT NULL,
    reasons      TEXT    NOT NULL, -- reason codes, comma-separated, main first
    objection_id TEXT,
    list_version INTEGER NOT NULL CHECK (list_version >= 0),
    token_name   TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX decisions_org_number ON decisions (org, number, decided_at);
CREATE INDEX decisions_org_id ON decisions (org, id);             -- a supervisor's list, by org
CREATE INDEX decisions_objection ON decisions (objection_id, id); -- the checks one objection blocked
CREATE INDEX decisions_decided_at ON decisions (decided_at);      -- the retention purge

-- day is the Europe/Amsterdam date, YYYY-MM-DD.
CREATE TABLE decision_counts (
    org      TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    callable INTEGER NOT NULL CHECK (callable IN (0, 1)),
    reason   TEXT    NOT NULL,
    count    INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (org, day, callable, reason)
) STRICT;

CREATE TABLE first_blocks (
    objection_id TEXT NOT NULL PRIMARY KEY,
    at           TEXT NOT NULL
) STRICT;

-- Evidence is not edited; a retention purge (docs/compliance.md §3.4) may delete.
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only');
END;
CREATE TRIGGER first_blocks_no_update BEFORE UPDATE ON first_blocks
BEGIN
    SELECT RAISE(ABORT, 'first_blocks are append-only');
END;

---- create above / drop below ----

DROP TABLE first_blocks;
DROP TABLE decision_counts;
DROP TABLE decisions;
