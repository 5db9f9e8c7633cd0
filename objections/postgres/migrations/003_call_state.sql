-- Working state of calls driven by webhooks (Twilio): one row per live call,
-- so that any verzet instance can take the call's next webhook. Unlike the
-- evidence tables these rows are updated (optimistic concurrency on version)
-- and deleted: serve purges them a day after their last update.
--
-- UNLOGGED: the rows are working data, not evidence, and a webhook commits
-- one on every step, so they skip the WAL and the flush at each commit
-- (telephony/twilio's BenchmarkConcurrentCalls). After a server crash (or on a
-- promoted standby) the table is empty: the Twilio adapter then resumes each
-- live call from the context on its action URL, and a key press is still
-- recorded; objections and offers are in logged tables as before.

CREATE UNLOGGED TABLE call_states (
	provider   text NOT NULL,
	ref        text NOT NULL,
	version    bigint NOT NULL CHECK (version > 0),
	data       bytea NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (provider, ref)
);

CREATE INDEX call_states_updated_at ON call_states (provider, updated_at);

---- create above / drop below ----

DROP TABLE call_states;
