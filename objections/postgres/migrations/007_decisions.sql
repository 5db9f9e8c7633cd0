-- The honour evidence of docs/compliance.md §3.3: what the dial-time check
-- (GET /v1/callability) answered. objections/httpapi buffers the answers in
-- memory and writes them in batches (AppendDecisions), so that a check never
-- waits for this log; a batch is one transaction over the three tables.
--
-- decisions holds every blocked check, one row each, with the list version
-- (events.seq of the log head) its facts were read at. Allowed checks are
-- only counted, in decision_counts, like the blocked ones. A scrub is list
-- preparation, not a dial attempt: it is not logged.

CREATE TABLE decisions (
	id           text PRIMARY KEY,            -- ULID of decided_at
	decided_at   timestamptz NOT NULL,
	org          text NOT NULL,
	number       text NOT NULL,               -- E.164
	person_id    text NOT NULL DEFAULT '',
	callable     boolean NOT NULL,
	basis        text NOT NULL,
	reasons      text NOT NULL,               -- reason codes, comma-separated, main first
	objection_id text,                        -- the objection that blocked it
	list_version bigint NOT NULL CHECK (list_version >= 0),
	token_name   text NOT NULL DEFAULT ''     -- the API token that asked
);

CREATE INDEX decisions_org_number ON decisions (org, number, decided_at);
CREATE INDEX decisions_org_id ON decisions (org, id);             -- a supervisor's list, by org
CREATE INDEX decisions_objection ON decisions (objection_id, id); -- the checks one objection blocked
CREATE INDEX decisions_decided_at ON decisions (decided_at);      -- the retention purge

-- Checks per org, Europe/Amsterdam day, result and main reason ('' when
-- none). Writers add to count (INSERT … ON CONFLICT DO UPDATE).
CREATE TABLE decision_counts (
	org      text NOT NULL,
	day      date NOT NULL,
	callable boolean NOT NULL,
	reason   text NOT NULL,
	count    bigint NOT NULL CHECK (count >= 0),
	PRIMARY KEY (org, day, callable, reason)
);

-- The first logged blocked check of each objection: with the objection's
-- received_at, the "commit to first blocked dial attempt" latency. The
-- first writer wins (ON CONFLICT DO NOTHING); as instances flush every
-- fraction of a second, another instance's earlier check may lose to a
-- later one by up to that much.
CREATE TABLE first_blocks (
	objection_id text PRIMARY KEY,
	at           timestamptz NOT NULL
);

-- Evidence is not edited. Rows may be deleted by a retention purge
-- (docs/compliance.md §3.4), so only UPDATE is refused.
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER first_blocks_no_update BEFORE UPDATE ON first_blocks
	FOR EACH ROW EXECUTE FUNCTION refuse_change();

---- create above / drop below ----

DROP TABLE first_blocks;
DROP TABLE decision_counts;
DROP TABLE decisions;
