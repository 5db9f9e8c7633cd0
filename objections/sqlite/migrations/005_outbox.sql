-- The transactional outbox of the webhooks, as in objections/postgres: a
-- trigger on objections and on objection_voids writes one row per active
-- webhook target in the same transaction as the objection or the void, so
-- the event exists exactly when its record was committed and survives
-- restarts. One writer at a time (BEGIN IMMEDIATE) keeps ids in commit
-- order. Rows change (attempts, lease, delivered_at) and delivered ones are
-- pruned: they are delivery state; the evidence is the event log.

CREATE TABLE webhook_targets (
    url      TEXT    NOT NULL PRIMARY KEY,
    active   INTEGER NOT NULL CHECK (active IN (0, 1)),
    added_at TEXT    NOT NULL
) STRICT;

CREATE TABLE outbox (
    id           INTEGER NOT NULL PRIMARY KEY,
    target       TEXT    NOT NULL REFERENCES webhook_targets (url),
    event_id     TEXT    NOT NULL, -- "<objection id>.recorded" or ".voided"
    kind         TEXT    NOT NULL CHECK (kind IN ('objection.recorded', 'objection.voided')),
    objection_id TEXT    NOT NULL,
    org          TEXT    NOT NULL,
    key          TEXT    NOT NULL, -- org/number: the order of delivery
    at           TEXT    NOT NULL, -- when the event happened
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TEXT    NOT NULL, -- not before: the retry backoff
    lease_id     TEXT,
    lease_until  TEXT,
    last_error   TEXT    NOT NULL DEFAULT '',
    delivered_at TEXT,
    UNIQUE (target, event_id)
) STRICT;

CREATE INDEX outbox_pending ON outbox (target, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_pending_key ON outbox (target, key, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;

CREATE TRIGGER objections_outbox AFTER INSERT ON objections
BEGIN
    INSERT INTO outbox (target, event_id, kind, objection_id, org, key, at, next_at)
    SELECT url, NEW.id || '.recorded', 'objection.recorded', NEW.id, NEW.org,
        NEW.org || '/' || CASE WHEN NEW.number <> '' THEN NEW.number ELSE 'objection:' || NEW.id END,
        NEW.received_at, NEW.received_at
    FROM webhook_targets
    WHERE active = 1;
END;

CREATE TRIGGER objection_voids_outbox AFTER INSERT ON objection_voids
BEGIN
    INSERT INTO outbox (target, event_id, kind, objection_id, org, key, at, next_at)
    SELECT t.url, o.id || '.voided', 'objection.voided', o.id, o.org,
        o.org || '/' || CASE WHEN o.number <> '' THEN o.number ELSE 'objection:' || o.id END,
        NEW.at, NEW.at
    FROM webhook_targets t, objections o
    WHERE t.active = 1 AND o.id = NEW.objection_id;
END;

---- create above / drop below ----

DROP TRIGGER objection_voids_outbox;
DROP TRIGGER objections_outbox;
DROP TABLE outbox;
DROP TABLE webhook_targets;
