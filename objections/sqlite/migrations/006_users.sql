-- The supervisors' web UI (objections/review): the people who sign in, their
-- sessions and the audit log of what they did. Users are kept apart from API
-- tokens; both use the roles supervisor and admin. Times are TEXT in the
-- fixed-width UTC form of 001_init.sql; an absent time is ''.

CREATE TABLE users (
    id                   TEXT    NOT NULL PRIMARY KEY,
    name                 TEXT    NOT NULL UNIQUE,
    role                 TEXT    NOT NULL CHECK (role IN ('supervisor', 'admin')),
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    bootstrap            INTEGER NOT NULL DEFAULT 0 CHECK (bootstrap IN (0, 1)),
    created_at           TEXT    NOT NULL,
    created_by           TEXT    NOT NULL DEFAULT '',
    failed_sign_ins      INTEGER NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
    locked_until         TEXT    NOT NULL DEFAULT '',
    last_sign_in_at      TEXT    NOT NULL DEFAULT ''
) STRICT;

-- id is the SHA-256 of the cookie's secret, never the secret itself.
CREATE TABLE ui_sessions (
    id         TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX ui_sessions_user ON ui_sessions (user_id);
CREATE INDEX ui_sessions_expires_at ON ui_sessions (expires_at);

-- Who signed in, viewed, exported or voided what, and when. Append-only;
-- seq keeps the order of entries made in the same millisecond.
CREATE TABLE audit_log (
    seq     INTEGER NOT NULL PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '',
    remote  TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- The dashboard counts offers per day over a range of all orgs.
CREATE INDEX offers_started_at ON offers (started_at);

---- create above / drop below ----

DROP INDEX offers_started_at;
DROP TABLE audit_log;
DROP TABLE ui_sessions;
DROP TABLE users;
