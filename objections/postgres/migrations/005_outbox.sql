-- The transactional outbox of the webhooks (objections/httpapi). A trigger
-- on objections and on objection_voids writes one outbox row per active
-- webhook target in the same transaction as the objection or the void: the
-- event exists exactly when its record was committed, whichever process
-- wrote it (serve, the IVR, the command line), and survives restarts. The
-- stores' Go code does not change.
--
-- Rows of one key (org and number) are delivered one at a time, oldest
-- first: a row is handed out only when no older row of its target and key
-- is undelivered. Ids follow commit order because every objection and void
-- takes the event chain's head lock (see 001) before its insert.
--
-- Unlike objections, outbox rows change (attempts, lease, delivered_at) and
-- delivered ones are pruned: they are delivery state, not evidence; the
-- evidence is the event log.

-- The receivers: serve syncs this table to VERZET_WEBHOOK_URLS at start.
CREATE TABLE webhook_targets (
	url      text PRIMARY KEY,
	active   boolean NOT NULL,
	added_at timestamptz NOT NULL
);

CREATE TABLE outbox (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	target       text NOT NULL REFERENCES webhook_targets (url),
	event_id     text NOT NULL,               -- "<objection id>.recorded" or ".voided"
	kind         text NOT NULL CHECK (kind IN ('objection.recorded', 'objection.voided')),
	objection_id text NOT NULL,
	org          text NOT NULL,
	key          text NOT NULL,               -- org/number: the order of delivery
	at           timestamptz NOT NULL,        -- when the event happened
	attempts     integer NOT NULL DEFAULT 0,
	next_at      timestamptz NOT NULL,        -- not before: the retry backoff
	lease_id     text,                        -- the claim delivering it now
	lease_until  timestamptz,
	last_error   text NOT NULL DEFAULT '',
	delivered_at timestamptz,
	UNIQUE (target, event_id)
);

CREATE INDEX outbox_pending ON outbox (target, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_pending_key ON outbox (target, key, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;

CREATE FUNCTION outbox_objection_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO outbox (target, event_id, kind, objection_id, org, key, at, next_at)
	SELECT t.url, NEW.id || '.recorded', 'objection.recorded', NEW.id, NEW.org,
		NEW.org || '/' || CASE WHEN NEW.number <> '' THEN NEW.number ELSE 'objection:' || NEW.id END,
		NEW.received_at, NEW.received_at
	FROM webhook_targets t
	WHERE t.active;
	RETURN NULL;
END
$$;

CREATE FUNCTION outbox_objection_voided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO outbox (target, event_id, kind, objection_id, org, key, at, next_at)
	SELECT t.url, o.id || '.voided', 'objection.voided', o.id, o.org,
		o.org || '/' || CASE WHEN o.number <> '' THEN o.number ELSE 'objection:' || o.id END,
		NEW.at, NEW.at
	FROM webhook_targets t, objections o
	WHERE t.active AND o.id = NEW.objection_id;
	RETURN NULL;
END
$$;

CREATE TRIGGER objections_outbox AFTER INSERT ON objections
	FOR EACH ROW EXECUTE FUNCTION outbox_objection_recorded();
CREATE TRIGGER objection_voids_outbox AFTER INSERT ON objection_voids
	FOR EACH ROW EXECUTE FUNCTION outbox_objection_voided();

---- create above / drop below ----

DROP TRIGGER objection_voids_outbox ON objection_voids;
DROP TRIGGER objections_outbox ON objections;
DROP FUNCTION outbox_objection_voided();
DROP FUNCTION outbox_objection_recorded();
DROP TABLE outbox;
DROP TABLE webhook_targets;
