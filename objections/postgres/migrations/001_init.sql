-- The objection register. Objections, voids, offers and events are evidence:
-- rows are only ever inserted (triggers refuse UPDATE, DELETE and TRUNCATE).
-- What can change is kept apart: active_objections is derived (a row per
-- org and number with an active objection, deleted by a void) and event_head
-- is the tip of the hash chain.

CREATE TABLE orgs (
	id                   text PRIMARY KEY,
	name                 text NOT NULL,
	sector               text NOT NULL,
	relation_term_months integer NOT NULL CHECK (relation_term_months > 0),
	term_justification   text NOT NULL DEFAULT '',
	language             text NOT NULL,
	auto_created         boolean NOT NULL,
	created_at           timestamptz NOT NULL,
	updated_at           timestamptz NOT NULL
);

CREATE TABLE objections (
	id              text PRIMARY KEY,
	org             text NOT NULL REFERENCES orgs (id),
	number          text NOT NULL,           -- E.164; '' while pending_number
	raw_number      text NOT NULL,
	person_id       text NOT NULL DEFAULT '',
	received_at     timestamptz NOT NULL,
	source          text NOT NULL,
	provider        text NOT NULL DEFAULT '',
	call_ref        text,                    -- NULL when none, so that it is unique only when set
	dialer_call_ref text NOT NULL DEFAULT '',
	campaign_ref    text NOT NULL DEFAULT '',
	lead_ref        text NOT NULL DEFAULT '',
	agent_ref       text NOT NULL DEFAULT '',
	offer_id        text NOT NULL DEFAULT '',
	note            text NOT NULL DEFAULT '',
	actor           text NOT NULL DEFAULT '',
	idempotency_key text,                    -- NULL when none
	-- The status as recorded; "voided" is derived from objection_voids.
	status          text NOT NULL CHECK (status IN ('active', 'pending_number')),
	CHECK ((status = 'active') = (number <> ''))
);

CREATE UNIQUE INDEX objections_org_idempotency_key ON objections (org, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX objections_provider_call_ref ON objections (provider, call_ref) WHERE call_ref IS NOT NULL;
CREATE INDEX objections_org_number ON objections (org, number);
CREATE INDEX objections_number ON objections (number); -- a person's request for their data spans orgs
CREATE INDEX objections_org_person ON objections (org, person_id);
CREATE INDEX objections_org_id ON objections (org, id);
CREATE INDEX objections_org_campaign ON objections (org, campaign_ref, id);
CREATE INDEX objections_org_received ON objections (org, received_at);

-- A void happens once: the primary key is the objection.
CREATE TABLE objection_voids (
	objection_id text PRIMARY KEY REFERENCES objections (id),
	actor        text NOT NULL,
	reason       text NOT NULL,
	at           timestamptz NOT NULL
);

-- One active objection per org and number, enforced here and not only in
-- Go. The row goes when the objection is voided; the objection stays.
CREATE TABLE active_objections (
	org          text NOT NULL REFERENCES orgs (id),
	number       text NOT NULL CHECK (number <> ''),
	objection_id text NOT NULL UNIQUE REFERENCES objections (id),
	PRIMARY KEY (org, number)
);

CREATE TABLE offers (
	id               text PRIMARY KEY,
	org              text NOT NULL REFERENCES orgs (id),
	number           text NOT NULL DEFAULT '',
	presented_number text NOT NULL DEFAULT '',
	provider         text NOT NULL,
	call_ref         text NOT NULL,
	dialer_call_ref  text NOT NULL DEFAULT '',
	campaign_ref     text NOT NULL DEFAULT '',
	lead_ref         text NOT NULL DEFAULT '',
	agent_ref        text NOT NULL DEFAULT '',
	announced        boolean NOT NULL,
	prompt_id        text NOT NULL DEFAULT '',
	prompt_version   text NOT NULL DEFAULT '',
	language         text NOT NULL DEFAULT '',
	prompt_hash      text NOT NULL DEFAULT '',
	played_ms        bigint NOT NULL,
	barge_in         boolean NOT NULL,
	keys             jsonb NOT NULL,
	outcome          text NOT NULL,
	ended_by         text NOT NULL DEFAULT '',
	started_at       timestamptz NOT NULL,
	ended_at         timestamptz NOT NULL,
	objection_id     text NOT NULL DEFAULT '',
	UNIQUE (provider, call_ref)
);

CREATE INDEX offers_org_id ON offers (org, id);
CREATE INDEX offers_org_number ON offers (org, number);
CREATE INDEX offers_org_campaign ON offers (org, campaign_ref, id);
CREATE INDEX offers_org_started ON offers (org, started_at);

CREATE TABLE relations (
	id         text PRIMARY KEY,
	org        text NOT NULL REFERENCES orgs (id),
	number     text NOT NULL,
	person_id  text NOT NULL DEFAULT '',
	kind       text NOT NULL,
	peildatum  date NOT NULL,
	source     text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL,
	UNIQUE (org, number, person_id, kind)
);

CREATE INDEX relations_org_person ON relations (org, person_id);

CREATE TABLE consents (
	id           text PRIMARY KEY,
	org          text NOT NULL REFERENCES orgs (id),
	number       text NOT NULL,
	person_id    text NOT NULL DEFAULT '',
	channel      text NOT NULL,
	given_at     timestamptz NOT NULL,
	withdrawn_at timestamptz CHECK (withdrawn_at >= given_at),
	source       text NOT NULL DEFAULT '',
	evidence_ref text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	UNIQUE (org, number, person_id, channel, given_at)
);

CREATE INDEX consents_org_person ON consents (org, person_id);

-- The hash-chained log. payload is bytea, not jsonb: the hash is over the
-- exact bytes, which jsonb would reformat.
CREATE TABLE events (
	seq        bigint PRIMARY KEY CHECK (seq > 0),
	kind       text NOT NULL,
	org        text NOT NULL REFERENCES orgs (id),
	subject_id text NOT NULL,
	at         timestamptz NOT NULL,
	payload    bytea NOT NULL,
	prev_hash  text NOT NULL,
	hash       text NOT NULL UNIQUE
);

CREATE INDEX events_subject ON events (subject_id);

-- The tip of the chain: one row, locked FOR UPDATE by every transaction that
-- appends, so that events are chained in commit order across processes.
CREATE TABLE event_head (
	id   boolean PRIMARY KEY DEFAULT true CHECK (id),
	seq  bigint NOT NULL,
	hash text NOT NULL
);

INSERT INTO event_head (id, seq, hash)
VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER objections_append_only BEFORE UPDATE OR DELETE ON objections
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER objections_no_truncate BEFORE TRUNCATE ON objections
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER objection_voids_append_only BEFORE UPDATE OR DELETE ON objection_voids
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER objection_voids_no_truncate BEFORE TRUNCATE ON objection_voids
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER offers_append_only BEFORE UPDATE OR DELETE ON offers
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER offers_no_truncate BEFORE TRUNCATE ON offers
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

---- create above / drop below ----

DROP TABLE event_head;
DROP TABLE events;
DROP TABLE consents;
DROP TABLE relations;
DROP TABLE offers;
DROP TABLE active_objections;
DROP TABLE objection_voids;
DROP TABLE objections;
DROP TABLE orgs;
DROP FUNCTION refuse_change();
