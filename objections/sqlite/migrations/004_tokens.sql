-- API tokens of objections/httpapi, as in objections/postgres: only the
-- SHA-256 of a token's secret is kept. Revoking sets revoked_at; the row
-- stays for the audit.

CREATE TABLE api_tokens (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL CHECK (name <> ''),
    role       TEXT NOT NULL CHECK (role IN ('dialer', 'integrator', 'supervisor', 'admin')),
    hash       TEXT NOT NULL CHECK (length(hash) = 64),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    revoked_at TEXT
) STRICT;

-- A name names one active token (`verzet tokens revoke NAME`).
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

---- create above / drop below ----

DROP TABLE api_tokens;
