-- The supervisors' web UI (objections/review): the people who sign in, their
-- sessions and the audit log of what they did. Users are kept apart from API
-- tokens; both use the roles supervisor and admin.

CREATE TABLE users (
	id                   text PRIMARY KEY,
	name                 text NOT NULL UNIQUE,
	role                 text NOT NULL CHECK (role IN ('supervisor', 'admin')),
	password_hash        text NOT NULL,
	must_change_password boolean NOT NULL DEFAULT false,
	bootstrap            boolean NOT NULL DEFAULT false,
	created_at           timestamptz NOT NULL,
	created_by           text NOT NULL DEFAULT '',
	failed_sign_ins      integer NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
	locked_until         timestamptz,
	last_sign_in_at      timestamptz
);

-- id is the SHA-256 of the cookie's secret, never the secret itself.
CREATE TABLE ui_sessions (
	id         text PRIMARY KEY,
	user_id    text NOT NULL REFERENCES users (id),
	created_at timestamptz NOT NULL,
	seen_at    timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX ui_sessions_user ON ui_sessions (user_id);
CREATE INDEX ui_sessions_expires_at ON ui_sessions (expires_at);

-- Who signed in, viewed, exported or voided what, and when. Append-only;
-- seq keeps the order of entries made in the same millisecond.
CREATE TABLE audit_log (
	seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id      text NOT NULL UNIQUE,
	at      timestamptz NOT NULL,
	actor   text NOT NULL,
	action  text NOT NULL,
	subject text NOT NULL DEFAULT '',
	detail  text NOT NULL DEFAULT '',
	remote  text NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The dashboard counts objections and offers per day over a range of all orgs.
CREATE INDEX objections_received_at ON objections (received_at);
CREATE INDEX offers_started_at ON offers (started_at);

---- create above / drop below ----

DROP INDEX offers_started_at;
DROP INDEX objections_received_at;
DROP TABLE audit_log;
DROP TABLE ui_sessions;
DROP TABLE users;
