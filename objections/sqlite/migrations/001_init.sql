-- The register's schema for SQLite. It mirrors objections/postgres in SQLite
-- types: times are TEXT in the fixed-width UTC form
-- 2006-01-02T15:04:05.000000Z (exact to the microsecond and sortable as
-- text), dates are TEXT 2006-01-02, booleans are INTEGER 0/1, and an absent
-- optional value is '' except where a unique index needs NULL.

CREATE TABLE orgs (
    id                   TEXT    NOT NULL PRIMARY KEY,
    name                 TEXT    NOT NULL,
    sector               TEXT    NOT NULL CHECK (sector IN ('charity', 'lottery', 'press', 'other')),
    relation_term_months INTEGER NOT NULL CHECK (relation_term_months BETWEEN 1 AND 240),
    term_justification   TEXT    NOT NULL DEFAULT '',
    language             TEXT    NOT NULL,
    auto_created         INTEGER NOT NULL DEFAULT 0 CHECK (auto_created IN (0, 1)),
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
) STRICT;

-- Objections are append-only evidence: a void is a row in objection_voids,
-- never an edit. status holds what was recorded (active or pending_number);
-- "voided" is derived from objection_voids.
CREATE TABLE objections (
    id              TEXT NOT NULL PRIMARY KEY,
    org             TEXT NOT NULL REFERENCES orgs (id),
    number          TEXT NOT NULL DEFAULT '',
    raw_number      TEXT NOT NULL DEFAULT '',
    person_id       TEXT NOT NULL DEFAULT '',
    received_at     TEXT NOT NULL,
    source          TEXT NOT NULL,
    provider        TEXT NOT NULL DEFAULT '',
    call_ref        TEXT,
    dialer_call_ref TEXT NOT NULL DEFAULT '',
    campaign_ref    TEXT NOT NULL DEFAULT '',
    lead_ref        TEXT NOT NULL DEFAULT '',
    agent_ref       TEXT NOT NULL DEFAULT '',
    offer_id        TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT,
    status          TEXT NOT NULL CHECK (status IN ('active', 'pending_number')),
    CHECK ((status = 'active') = (number <> ''))
) STRICT;

CREATE UNIQUE INDEX objections_org_idempotency_key ON objections (org, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX objections_provider_call_ref ON objections (provider, call_ref)
    WHERE call_ref IS NOT NULL;
CREATE INDEX objections_org_number ON objections (org, number);
CREATE INDEX objections_org_person ON objections (org, person_id);
CREATE INDEX objections_org_campaign ON objections (org, campaign_ref);
CREATE INDEX objections_org_received_at ON objections (org, received_at);
CREATE INDEX objections_received_at ON objections (received_at);

CREATE TRIGGER objections_no_update BEFORE UPDATE ON objections
BEGIN
    SELECT RAISE(ABORT, 'objections are append-only');
END;
CREATE TRIGGER objections_no_delete BEFORE DELETE ON objections
BEGIN
    SELECT RAISE(ABORT, 'objections are append-only');
END;

-- The primary key makes a void happen once.
CREATE TABLE objection_voids (
    objection_id TEXT NOT NULL PRIMARY KEY REFERENCES objections (id),
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TEXT NOT NULL
) STRICT;

CREATE TRIGGER objection_voids_no_update BEFORE UPDATE ON objection_voids
BEGIN
    SELECT RAISE(ABORT, 'objection voids are append-only');
END;
CREATE TRIGGER objection_voids_no_delete BEFORE DELETE ON objection_voids
BEGIN
    SELECT RAISE(ABORT, 'objection voids are append-only');
END;

-- Derived: the one active objection per org and number. The row is deleted
-- when the objection is voided; the objection itself stays.
CREATE TABLE active_objections (
    org          TEXT NOT NULL REFERENCES orgs (id),
    number       TEXT NOT NULL CHECK (number <> ''),
    objection_id TEXT NOT NULL UNIQUE REFERENCES objections (id),
    PRIMARY KEY (org, number)
) STRICT, WITHOUT ROWID;

-- One row per IVR session: the proof that the right to object was offered.
CREATE TABLE offers (
    id               TEXT    NOT NULL PRIMARY KEY,
    org              TEXT    NOT NULL REFERENCES orgs (id),
    number           TEXT    NOT NULL DEFAULT '',
    presented_number TEXT    NOT NULL DEFAULT '',
    provider         TEXT    NOT NULL,
    call_ref         TEXT    NOT NULL,
    dialer_call_ref  TEXT    NOT NULL DEFAULT '',
    campaign_ref     TEXT    NOT NULL DEFAULT '',
    lead_ref         TEXT    NOT NULL DEFAULT '',
    agent_ref        TEXT    NOT NULL DEFAULT '',
    announced        INTEGER NOT NULL CHECK (announced IN (0, 1)),
    prompt_id        TEXT    NOT NULL DEFAULT '',
    prompt_version   TEXT    NOT NULL DEFAULT '',
    language         TEXT    NOT NULL DEFAULT '',
    prompt_hash      TEXT    NOT NULL DEFAULT '',
    played_ms        INTEGER NOT NULL CHECK (played_ms >= 0),
    barge_in         INTEGER NOT NULL CHECK (barge_in IN (0, 1)),
    keys             TEXT    NOT NULL DEFAULT '[]', -- JSON array of objections.Key
    outcome          TEXT    NOT NULL,
    ended_by         TEXT    NOT NULL DEFAULT '',
    started_at       TEXT    NOT NULL,
    ended_at         TEXT    NOT NULL,
    objection_id     TEXT    NOT NULL DEFAULT '',
    UNIQUE (provider, call_ref)
) STRICT;

CREATE INDEX offers_org_number ON offers (org, number);
CREATE INDEX offers_org_campaign ON offers (org, campaign_ref);
CREATE INDEX offers_org_started_at ON offers (org, started_at);

CREATE TRIGGER offers_no_update BEFORE UPDATE ON offers
BEGIN
    SELECT RAISE(ABORT, 'offers are append-only');
END;
CREATE TRIGGER offers_no_delete BEFORE DELETE ON offers
BEGIN
    SELECT RAISE(ABORT, 'offers are append-only');
END;

-- person_id is '' when unknown, so that the unique key treats "no person"
-- as one value (the coalesce(person, '') of the key), as in
-- objections/postgres.
CREATE TABLE relations (
    id         TEXT NOT NULL PRIMARY KEY,
    org        TEXT NOT NULL REFERENCES orgs (id),
    number     TEXT NOT NULL,
    person_id  TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    peildatum  TEXT NOT NULL, -- 2006-01-02
    source     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (org, number, person_id, kind)
) STRICT;

CREATE INDEX relations_org_person ON relations (org, person_id);

CREATE TABLE consents (
    id           TEXT NOT NULL PRIMARY KEY,
    org          TEXT NOT NULL REFERENCES orgs (id),
    number       TEXT NOT NULL,
    person_id    TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    given_at     TEXT NOT NULL,
    withdrawn_at TEXT,
    source       TEXT NOT NULL DEFAULT '',
    evidence_ref TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    UNIQUE (org, number, person_id, channel, given_at)
) STRICT;

CREATE INDEX consents_org_person ON consents (org, person_id);

-- The hash-chained log. seq is the rowid; a write that appends an event
-- holds the write lock (BEGIN IMMEDIATE) from reading the head to commit, so
-- the chain follows commit order. The unique prev_hash forbids a fork.
CREATE TABLE events (
    seq        INTEGER NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL,
    org        TEXT    NOT NULL REFERENCES orgs (id),
    subject_id TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    payload    TEXT    NOT NULL, -- the record's JSON, byte for byte (always UTF-8)
    prev_hash  TEXT    NOT NULL UNIQUE,
    hash       TEXT    NOT NULL UNIQUE
) STRICT;

CREATE INDEX events_subject ON events (subject_id);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

---- create above / drop below ----

DROP TABLE events;
DROP TABLE consents;
DROP TABLE relations;
DROP TABLE offers;
DROP TABLE active_objections;
DROP TABLE objection_voids;
DROP TABLE objections;
DROP TABLE orgs;
