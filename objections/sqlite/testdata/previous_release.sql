-- The SQL the previous release of verzet runs on the embedded store, for
-- the upgrade test (TestPreviousReleaseStatements). Migrations only go
-- forward: the previous release's statements must keep working on the
-- schema this release migrated (add columns with defaults; drop or rename
-- a column only in the release after the one that stopped using it).
--
-- Representative statements, copied verbatim from the code at the
-- release (objections/sqlite: objection.go, offer.go, org.go, token.go,
-- event.go, facts.go), with parameters as that code binds them (times in
-- its fixed-width text form, booleans as 0 and 1). They run in order on one
-- freshly migrated database. When a release is cut, replace them with that
-- release's own statements; never edit them to suit a new migration.
--
-- Format: "-- name:" starts a statement; "-- args:" (a JSON array) and
-- "-- rows:" (rows returned or changed) may follow; the SQL runs to the
-- next "-- name:".

-- name: orgs: create the default org of a key press (org.go ensureOrg)
-- args: ["acme", "acme", "other", 36, "", "nl", 1, "2026-03-01T09:00:00.000000Z", "2026-03-01T09:00:00.000000Z", "{}"]
-- rows: 1
INSERT INTO orgs (id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING

-- name: orgs: set an org (org.go SetOrg)
-- args: ["acme", "Acme Goede Doelen", "charity", 36, "", "nl", 0, "2026-03-01T09:00:00.000000Z", "2026-03-01T09:05:00.000000Z", "{\"key_object\":\"1\"}"]
-- rows: 1
INSERT INTO orgs (id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
				name = excluded.name, sector = excluded.sector,
				relation_term_months = excluded.relation_term_months,
				term_justification = excluded.term_justification,
				language = excluded.language, auto_created = excluded.auto_created,
				updated_at = excluded.updated_at, ivr = excluded.ivr
			RETURNING id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr

-- name: orgs: read one (org.go Org, facts.go factsOrg)
-- args: ["acme"]
-- rows: 1
SELECT id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr FROM orgs WHERE id = ?

-- name: orgs: list (org.go Orgs)
-- rows: 1
SELECT id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr FROM orgs ORDER BY id

-- name: objections: a repeat by call (objection.go repeatOf)
-- args: ["twilio", "CA0001"]
-- rows: 0
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref,
	o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status,
	v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id WHERE o.provider = ? AND o.call_ref = ?

-- name: objections: record one (objection.go RecordObjection)
-- args: ["01JNPREV000000000000000001", "acme", "+31612345678", "06 1234 5678", "", "2026-03-01T09:10:00.000000Z", "ivr-twilio", "twilio", "CA0001", "dialer-42", "spring", "lead-7", "agent-3", "01JNPREV0000000000000OFFER", "", "", null, "active"]
-- rows: 1
INSERT INTO objections (id, org, number, raw_number, person_id,
				received_at, source, provider, call_ref, dialer_call_ref, campaign_ref, lead_ref, agent_ref,
				offer_id, note, actor, idempotency_key, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: objections: mark it active (objection.go RecordObjection)
-- args: ["acme", "+31612345678", "01JNPREV000000000000000001"]
-- rows: 1
INSERT INTO active_objections (org, number, objection_id) VALUES (?, ?, ?)

-- name: events: read the head (event.go appendEvent)
-- rows: 0
SELECT seq, kind, org, subject_id, at, payload, prev_hash, hash FROM events ORDER BY seq DESC LIMIT 1

-- name: events: append the objection's event (event.go appendEvent)
-- args: [1, "objection.recorded", "acme", "01JNPREV000000000000000001", "2026-03-01T09:10:00.000000Z", "{}", "0000000000000000000000000000000000000000000000000000000000000000", "1111111111111111111111111111111111111111111111111111111111111111"]
-- rows: 1
INSERT INTO events (seq, kind, org, subject_id, at, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)

-- name: objections: a repeat by the active objection (objection.go repeatOf)
-- args: ["acme", "+31612345678"]
-- rows: 1
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref,
	o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status,
	v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id JOIN active_objections a ON a.objection_id = o.id
			WHERE a.org = ? AND a.number = ?

-- name: objections: read one (objection.go Objection)
-- args: ["01JNPREV000000000000000001"]
-- rows: 1
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref,
	o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status,
	v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id WHERE o.id = ?

-- name: offers: find the offer of a call (offer.go RecordOffer, OfferByCallRef)
-- args: ["twilio", "CA0001"]
-- rows: 0
SELECT id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id FROM offers WHERE provider = ? AND call_ref = ?

-- name: offers: record one (offer.go RecordOffer)
-- args: ["01JNPREV0000000000000OFFER", "acme", "+31612345678", "+31201234567", "twilio", "CA0001", "dialer-42", "spring", "lead-7", "agent-3", 1, "offer", "3", "nl", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 5400, 0, "[{\"digit\":\"1\",\"at\":\"2026-03-01T09:09:58Z\"}]", "objected", "caller", "2026-03-01T09:09:50.000000Z", "2026-03-01T09:10:02.000000Z", "01JNPREV000000000000000001"]
-- rows: 1
INSERT INTO offers (id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: offers: read one (offer.go Offer)
-- args: ["01JNPREV0000000000000OFFER"]
-- rows: 1
SELECT id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id FROM offers WHERE id = ?

-- name: facts: the list version (facts.go listVersion)
-- rows: 1
SELECT coalesce(max(seq), 0) FROM events

-- name: facts: the org's objections on a number (facts.go Facts)
-- args: ["acme", "+31612345678"]
-- rows: 1
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref,
	o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status,
	v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id WHERE o.org = ? AND o.number = ? ORDER BY id

-- name: facts: the org's consents on a number (facts.go Facts)
-- args: ["acme", "+31612345678"]
-- rows: 0
SELECT id, org, number, person_id, channel, given_at, withdrawn_at, source,
	evidence_ref, created_at FROM consents WHERE org = ? AND number = ? ORDER BY given_at, id

-- name: facts: the org's relations on a number (facts.go Facts)
-- args: ["acme", "+31612345678"]
-- rows: 0
SELECT id, org, number, person_id, kind, peildatum, source, created_at FROM relations WHERE org = ? AND number = ? ORDER BY peildatum, id

-- name: tokens: is the name free (token.go CreateToken)
-- args: ["dialer-1"]
-- rows: 0
SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL

-- name: tokens: create one (token.go CreateToken)
-- args: ["01JNPREV0000000000000TOKEN", "dialer-1", "dialer", "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "2026-03-01T08:00:00.000000Z", "cli", null]
-- rows: 1
INSERT INTO api_tokens (id, name, role, hash, created_at, created_by, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			RETURNING id, name, role, hash, created_at, created_by, revoked_at

-- name: tokens: read one, as every API request does (token.go Token)
-- args: ["01JNPREV0000000000000TOKEN"]
-- rows: 1
SELECT id, name, role, hash, created_at, created_by, revoked_at FROM api_tokens WHERE id = ?

-- name: tokens: list (token.go Tokens)
-- rows: 1
SELECT id, name, role, hash, created_at, created_by, revoked_at FROM api_tokens ORDER BY id

-- name: tokens: revoke one (token.go RevokeToken)
-- args: ["2026-03-02T08:00:00.000000Z", "01JNPREV0000000000000TOKEN"]
-- rows: 1
UPDATE api_tokens SET revoked_at = ? WHERE id = ? RETURNING id, name, role, hash, created_at, created_by, revoked_at

-- name: objections: void one (objection.go VoidObjection)
-- args: ["01JNPREV000000000000000001", "admin", "recorded for the wrong number", "2026-03-02T10:00:00.000000Z"]
-- rows: 1
INSERT INTO objection_voids (objection_id, actor, reason, at) VALUES (?, ?, ?, ?)

-- name: objections: end its active row (objection.go VoidObjection)
-- args: ["01JNPREV000000000000000001"]
-- rows: 1
DELETE FROM active_objections WHERE objection_id = ?
