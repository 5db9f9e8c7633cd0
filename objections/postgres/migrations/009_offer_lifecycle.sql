-- Offers are started durably and completed at the end (docs/evidence.md):
-- StartOffer writes the record in_progress when the dialogue begins,
-- RecordOffer completes the same row when it ends; a record left
-- in_progress by an instance that stopped is closed as interrupted. Each
-- of these is an event in the hash-chained log: completing an offer
-- appends its final record, and the in_progress one stays in the log as it
-- was. The offers row is the latest of them, so the append-only trigger
-- now lets a row in_progress change, once, and nothing else.
--
-- A call offered again after a takeover has one offer per dialogue, each
-- following the one before (previous_offer_id): a call's offers are unique
-- per previous offer instead of per call.
--
-- instances: the heartbeat of every verzet instance on this database,
-- written every second, so that instances know when one has stopped and
-- one of them takes over its Asterisk channels (taken_by).

ALTER TABLE offers ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN instance text NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN previous_offer_id text NOT NULL DEFAULT '';
ALTER TABLE offers DROP CONSTRAINT offers_provider_call_ref_key;
ALTER TABLE offers ADD CONSTRAINT offers_call_previous_key UNIQUE (provider, call_ref, previous_offer_id);
CREATE INDEX offers_in_progress ON offers (instance) WHERE outcome = 'in_progress';

CREATE FUNCTION refuse_offer_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.outcome = 'in_progress' AND NEW.id = OLD.id THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'offers are append-only once final: % refused', TG_OP
		USING ERRCODE = 'integrity_constraint_violation';
END
$$;

DROP TRIGGER offers_append_only ON offers;
CREATE TRIGGER offers_complete_once BEFORE UPDATE OR DELETE ON offers
	FOR EACH ROW EXECUTE FUNCTION refuse_offer_change();

CREATE TABLE instances (
	id         text PRIMARY KEY,
	app        text NOT NULL DEFAULT '',
	started_at timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	taken_by   text NOT NULL DEFAULT ''
);

CREATE INDEX instances_app ON instances (app, last_seen);

---- create above / drop below ----

DROP TABLE instances;
DROP TRIGGER offers_complete_once ON offers;
CREATE TRIGGER offers_append_only BEFORE UPDATE OR DELETE ON offers
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP FUNCTION refuse_offer_change();
DROP INDEX offers_in_progress;
ALTER TABLE offers DROP CONSTRAINT offers_call_previous_key;
ALTER TABLE offers ADD CONSTRAINT offers_provider_call_ref_key UNIQUE (provider, call_ref);
ALTER TABLE offers DROP COLUMN previous_offer_id;
ALTER TABLE offers DROP COLUMN instance;
ALTER TABLE offers DROP COLUMN reason;
