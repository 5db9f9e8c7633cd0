-- API tokens of objections/httpapi. Only the SHA-256 of a token's secret is
-- kept: the bearer string is shown once, when the token is created, and a
-- request is checked by reading the row by id and comparing the hash of the
-- secret it presents in constant time. Revoking sets revoked_at; the row
-- stays, so that an audit can tell which token did what.

CREATE TABLE api_tokens (
	id         text PRIMARY KEY,
	name       text NOT NULL CHECK (name <> ''),
	role       text NOT NULL CHECK (role IN ('dialer', 'integrator', 'supervisor', 'admin')),
	hash       text NOT NULL CHECK (length(hash) = 64),
	created_at timestamptz NOT NULL,
	created_by text NOT NULL DEFAULT '',
	revoked_at timestamptz
);

-- A name names one active token (`verzet tokens revoke NAME`).
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

---- create above / drop below ----

DROP TABLE api_tokens;
