-- Offers are started durably and completed at the end (docs/evidence.md):
-- StartOffer writes the record in_progress when the dialogue begins,
-- RecordOffer completes the same row when it ends; a record left
-- in_progress by an instance that stopped is closed as interrupted. Each
-- of these is an event in the hash-chained log: completing an offer
-- appends its final record, and the in_progress one stays in the log as it
-- was. The offers row is the latest of them, so the update trigger now
-- lets a row in_progress change, once, and nothing else.
--
-- A call offered again after a takeover has one offer per dialogue, each
-- following the one before (previous_offer_id): a call's offers are unique
-- per previous offer instead of per call. SQLite cannot drop a table's
-- UNIQUE constraint, so the table is rebuilt with its rows, indexes and
-- triggers (https://www.sqlite.org/lang_altertable.html#otheralter); no
-- other table refers to offers.
--
-- instances: the heartbeat of every verzet instance on this database,
-- written every second, so that instances know when one has stopped and
-- one of them takes over its Asterisk channels (taken_by).

CREATE TABLE offers_new (
    id                TEXT    NOT NULL PRIMARY KEY,
    org               TEXT    NOT NULL REFERENCES orgs (id),
    number            TEXT    NOT NULL DEFAULT '',
    presented_number  TEXT    NOT NULL DEFAULT '',
    provider          TEXT    NOT NULL,
    call_ref          TEXT    NOT NULL,
    dialer_call_ref   TEXT    NOT NULL DEFAULT '',
    campaign_ref      TEXT    NOT NULL DEFAULT '',
    lead_ref          TEXT    NOT NULL DEFAULT '',
    agent_ref         TEXT    NOT NULL DEFAULT '',
    announced         INTEGER NOT NULL CHECK (announced IN (0, 1)),
    prompt_id         TEXT    NOT NULL DEFAULT '',
    prompt_version    TEXT    NOT NULL DEFAULT '',
    language          TEXT    NOT NULL DEFAULT '',
    prompt_hash       TEXT    NOT NULL DEFAULT '',
    played_ms         INTEGER NOT NULL CHECK (played_ms >= 0),
    barge_in          INTEGER NOT NULL CHECK (barge_in IN (0, 1)),
    keys              TEXT    NOT NULL DEFAULT '[]', -- JSON array of objections.Key
    outcome           TEXT    NOT NULL,
    ended_by          TEXT    NOT NULL DEFAULT '',
    started_at        TEXT    NOT NULL,
    ended_at          TEXT    NOT NULL,
    objection_id      TEXT    NOT NULL DEFAULT '',
    reason            TEXT    NOT NULL DEFAULT '',
    instance          TEXT    NOT NULL DEFAULT '',
    previous_offer_id TEXT    NOT NULL DEFAULT '',
    agency            TEXT    CHECK (agency <> org),
    agency_unlisted   INTEGER NOT NULL DEFAULT 0 CHECK (agency_unlisted IN (0, 1)),
    UNIQUE (provider, call_ref, previous_offer_id)
) STRICT;

INSERT INTO offers_new (id, org, number, presented_number, provider, call_ref, dialer_call_ref, campaign_ref, lead_ref,
    agent_ref, announced, prompt_id, prompt_version, language, prompt_hash, played_ms, barge_in, keys, outcome, ended_by,
    started_at, ended_at, objection_id, agency, agency_unlisted)
SELECT id, org, number, presented_number, provider, call_ref, dialer_call_ref, campaign_ref, lead_ref,
    agent_ref, announced, prompt_id, prompt_version, language, prompt_hash, played_ms, barge_in, keys, outcome, ended_by,
    started_at, ended_at, objection_id, agency, agency_unlisted
FROM offers;

DROP TABLE offers;
ALTER TABLE offers_new RENAME TO offers;

CREATE INDEX offers_org_number ON offers (org, number);
CREATE INDEX offers_org_campaign ON offers (org, campaign_ref);
CREATE INDEX offers_org_started_at ON offers (org, started_at);
CREATE INDEX offers_started_at ON offers (started_at);
CREATE INDEX offers_in_progress ON offers (instance) WHERE outcome = 'in_progress';
CREATE INDEX offers_agency_id ON offers (agency, id) WHERE agency IS NOT NULL; -- 008

CREATE TRIGGER offers_complete_once BEFORE UPDATE ON offers
WHEN OLD.outcome <> 'in_progress' OR NEW.id <> OLD.id
BEGIN
    SELECT RAISE(ABORT, 'offers are append-only once final');
END;
CREATE TRIGGER offers_no_delete BEFORE DELETE ON offers
BEGIN
    SELECT RAISE(ABORT, 'offers are append-only');
END;

CREATE TABLE instances (
    id         TEXT NOT NULL PRIMARY KEY,
    app        TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    taken_by   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX instances_app ON instances (app, last_seen);

---- create above / drop below ----

DROP TABLE instances;
