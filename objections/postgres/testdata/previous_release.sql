-- The SQL the previous release of verzet runs, for the rolling-update test
-- (TestPreviousReleaseStatements). Migrations only go forward, and while
-- instances are replaced one by one the old ones keep running these
-- statements on the schema the new release migrated: every migration must
-- leave them working (add columns with defaults; drop or rename a column
-- only in the release after the one that stopped using it).
--
-- Representative statements, copied verbatim from the code at the
-- release (objections/postgres: objection.go, offer.go, org.go, token.go,
-- chain.go, facts.go, factsone.go, factsmany.go), with parameters in the
-- text form PostgreSQL reads. They run in order on one freshly migrated
-- database. When a release is cut, replace them with that release's own
-- statements; never edit them to suit a new migration.
--
-- Format: "-- name:" starts a statement; "-- args:" (a JSON array) and
-- "-- rows:" (rows returned or changed) may follow; the SQL runs to the
-- next "-- name:".

-- name: orgs: create the default org of a key press (chain.go queueEnsureOrg)
-- args: ["acme", "acme", "other", 36, "", "nl", true, "2026-03-01T09:00:00Z", "2026-03-01T09:00:00Z"]
-- rows: 1
INSERT INTO orgs (id, name, sector, relation_term_months, term_justification, language, auto_created, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING

-- name: orgs: set an org (org.go SetOrg)
-- args: ["acme", "Acme Goede Doelen", "charity", 36, "", "nl", false, "2026-03-01T09:00:00Z", "2026-03-01T09:05:00Z", "{\"key_object\":\"1\"}"]
-- rows: 1
INSERT INTO orgs (id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sector = EXCLUDED.sector,
			relation_term_months = EXCLUDED.relation_term_months,
			term_justification = EXCLUDED.term_justification, language = EXCLUDED.language,
			auto_created = EXCLUDED.auto_created, created_at = EXCLUDED.created_at,
			updated_at = EXCLUDED.updated_at, ivr = EXCLUDED.ivr
		RETURNING id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr

-- name: orgs: read one (org.go Org, facts.go Facts)
-- args: ["acme"]
-- rows: 1
SELECT id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr FROM orgs WHERE id = $1

-- name: orgs: list (org.go Orgs)
-- rows: 1
SELECT id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr FROM orgs ORDER BY id

-- name: objections: find the objection a new one repeats (objection.go findRepeatSQL)
-- args: ["acme", null, "twilio", "CA0001", "+31612345678"]
-- rows: 0
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref,
	o.lead_ref, o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''),
	o.status, v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id
WHERE o.id = COALESCE(
	(SELECT id FROM objections WHERE org = $1 AND idempotency_key = $2),
	(SELECT id FROM objections WHERE provider = $3 AND call_ref = $4),
	(SELECT objection_id FROM active_objections WHERE org = $1 AND number = $5))

-- name: objections: record one (objection.go recordObjection)
-- args: ["01JNPREV000000000000000001", "acme", "+31612345678", "06 1234 5678", "", "2026-03-01T09:10:00Z", "ivr-twilio", "twilio", "CA0001", "dialer-42", "spring", "lead-7", "agent-3", "01JNPREV0000000000000OFFER", "", "", null, "active"]
-- rows: 1
INSERT INTO objections (id, org, number, raw_number, person_id, received_at,
				source, provider, call_ref, dialer_call_ref, campaign_ref, lead_ref, agent_ref,
				offer_id, note, actor, idempotency_key, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)

-- name: objections: mark it active (objection.go recordObjection)
-- args: ["acme", "+31612345678", "01JNPREV000000000000000001"]
-- rows: 1
INSERT INTO active_objections (org, number, objection_id) VALUES ($1, $2, $3)

-- name: events: append the objection's event (chain.go queueAppend)
-- args: [1, "objection.recorded", "acme", "01JNPREV000000000000000001", "2026-03-01T09:10:00Z", "\\x7b7d", "0000000000000000000000000000000000000000000000000000000000000000", "1111111111111111111111111111111111111111111111111111111111111111"]
-- rows: 1
INSERT INTO events (seq, kind, org, subject_id, at, payload, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)

-- name: events: move the head (chain.go queueAppend)
-- args: [1, "1111111111111111111111111111111111111111111111111111111111111111", 0]
-- rows: 1
UPDATE event_head SET seq = $1, hash = $2 WHERE id AND seq = $3

-- name: objections: a repeat finds the recorded one (objection.go findRepeatSQL)
-- args: ["acme", null, "twilio", "CA0001", "+31612345678"]
-- rows: 1
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref,
	o.lead_ref, o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''),
	o.status, v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id
WHERE o.id = COALESCE(
	(SELECT id FROM objections WHERE org = $1 AND idempotency_key = $2),
	(SELECT id FROM objections WHERE provider = $3 AND call_ref = $4),
	(SELECT objection_id FROM active_objections WHERE org = $1 AND number = $5))

-- name: objections: read one (objection.go Objection)
-- args: ["01JNPREV000000000000000001"]
-- rows: 1
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref,
	o.lead_ref, o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''),
	o.status, v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id WHERE o.id = $1

-- name: offers: find the offer of a call (offer.go recordOffer, OfferByCallRef)
-- args: ["twilio", "CA0001"]
-- rows: 0
SELECT id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id FROM offers WHERE provider = $1 AND call_ref = $2

-- name: offers: record one (offer.go recordOffer)
-- args: ["01JNPREV0000000000000OFFER", "acme", "+31612345678", "+31201234567", "twilio", "CA0001", "dialer-42", "spring", "lead-7", "agent-3", true, "offer", "3", "nl", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 5400, false, "[{\"digit\":\"1\",\"at\":\"2026-03-01T09:09:58Z\"}]", "objected", "caller", "2026-03-01T09:09:50Z", "2026-03-01T09:10:02Z", "01JNPREV000000000000000001"]
-- rows: 1
INSERT INTO offers (id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)

-- name: offers: read one (offer.go Offer)
-- args: ["01JNPREV0000000000000OFFER"]
-- rows: 1
SELECT id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id FROM offers WHERE id = $1

-- name: facts: the list version (facts.go listVersionSQL)
-- rows: 1
SELECT coalesce((SELECT seq FROM event_head), 0)

-- name: facts: the org's objections on a number (facts.go Facts)
-- args: ["acme", "+31612345678"]
-- rows: 1
SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref,
	o.lead_ref, o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''),
	o.status, v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id WHERE o.org = $1 AND o.number = $2 ORDER BY o.id

-- name: facts: the org's consents on a number (facts.go Facts)
-- args: ["acme", "+31612345678"]
-- rows: 0
SELECT id, org, number, person_id, channel, given_at, withdrawn_at, source, evidence_ref, created_at FROM consents WHERE org = $1 AND number = $2 ORDER BY given_at, id

-- name: facts: the org's relations on a number (facts.go Facts)
-- args: ["acme", "+31612345678"]
-- rows: 0
SELECT id, org, number, person_id, kind, peildatum, source, created_at FROM relations WHERE org = $1 AND number = $2 ORDER BY id

-- name: facts: one dial-time check in one statement (factsone.go factsOneByNumber)
-- args: ["acme", "+31612345678"]
-- rows: 1
SELECT
	(SELECT json_build_array(id, name, sector, relation_term_months, term_justification, language, auto_created,
			(extract(epoch FROM created_at) * 1000000)::bigint, (extract(epoch FROM updated_at) * 1000000)::bigint, ivr)
		FROM orgs WHERE id = $1),
	(SELECT json_agg(json_build_array(o.id, o.org, o.number, o.raw_number, o.person_id, (extract(epoch FROM o.received_at) * 1000000)::bigint,
			o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref, o.agent_ref,
			o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status, v.actor, v.reason, (extract(epoch FROM v.at) * 1000000)::bigint) ORDER BY o.id)
		FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id
		WHERE o.org = $1 AND o.number = $2),
	(SELECT json_agg(json_build_array(id, org, number, person_id, channel, (extract(epoch FROM given_at) * 1000000)::bigint, (extract(epoch FROM withdrawn_at) * 1000000)::bigint,
			source, evidence_ref, (extract(epoch FROM created_at) * 1000000)::bigint) ORDER BY given_at, id)
		FROM consents WHERE org = $1 AND number = $2),
	(SELECT json_agg(json_build_array(id, org, number, person_id, kind, to_char(peildatum, 'YYYY-MM-DD'), source,
			(extract(epoch FROM created_at) * 1000000)::bigint) ORDER BY id)
		FROM relations WHERE org = $1 AND number = $2),
	coalesce((SELECT seq FROM event_head), 0)

-- name: facts: dial-time checks batched (factsmany.go factsManyByNumber)
-- args: ["{acme,acme}", "{+31612345678,+31687654321}", "{NULL,NULL}"]
-- rows: 2
SELECT k.i,
	(SELECT json_build_array(id, name, sector, relation_term_months, term_justification, language, auto_created,
			(extract(epoch FROM created_at) * 1000000)::bigint, (extract(epoch FROM updated_at) * 1000000)::bigint, ivr)
		FROM orgs WHERE id = k.org),
	(SELECT json_agg(json_build_array(o.id, o.org, o.number, o.raw_number, o.person_id, (extract(epoch FROM o.received_at) * 1000000)::bigint,
			o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref, o.agent_ref,
			o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status, v.actor, v.reason, (extract(epoch FROM v.at) * 1000000)::bigint) ORDER BY o.id)
		FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id
		WHERE o.org = k.org AND o.number = k.number),
	(SELECT json_agg(json_build_array(id, org, number, person_id, channel, (extract(epoch FROM given_at) * 1000000)::bigint, (extract(epoch FROM withdrawn_at) * 1000000)::bigint,
			source, evidence_ref, (extract(epoch FROM created_at) * 1000000)::bigint) ORDER BY given_at, id)
		FROM consents WHERE org = k.org AND number = k.number),
	(SELECT json_agg(json_build_array(id, org, number, person_id, kind, to_char(peildatum, 'YYYY-MM-DD'), source,
			(extract(epoch FROM created_at) * 1000000)::bigint) ORDER BY id)
		FROM relations WHERE org = k.org AND number = k.number),
	coalesce((SELECT seq FROM event_head), 0)
	FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(org, number, person, i)

-- name: tokens: create one (token.go CreateToken)
-- args: ["01JNPREV0000000000000TOKEN", "dialer-1", "dialer", "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "2026-03-01T08:00:00Z", "cli", null]
-- rows: 1
INSERT INTO api_tokens (id, name, role, hash, created_at, created_by, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, name, role, hash, created_at, created_by, revoked_at

-- name: tokens: read one, as every API request does (token.go Token)
-- args: ["01JNPREV0000000000000TOKEN"]
-- rows: 1
SELECT id, name, role, hash, created_at, created_by, revoked_at FROM api_tokens WHERE id = $1

-- name: tokens: list (token.go Tokens)
-- rows: 1
SELECT id, name, role, hash, created_at, created_by, revoked_at FROM api_tokens ORDER BY id

-- name: tokens: lock one to revoke it (token.go RevokeToken)
-- args: ["01JNPREV0000000000000TOKEN"]
-- rows: 1
SELECT id, name, role, hash, created_at, created_by, revoked_at FROM api_tokens WHERE id = $1 FOR UPDATE

-- name: tokens: revoke it (token.go RevokeToken)
-- args: ["01JNPREV0000000000000TOKEN", "2026-03-02T08:00:00Z"]
-- rows: 1
UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 RETURNING id, name, role, hash, created_at, created_by, revoked_at

-- name: objections: void one (objection.go voidObjection)
-- args: ["01JNPREV000000000000000001", "admin", "recorded for the wrong number", "2026-03-02T10:00:00Z"]
-- rows: 1
INSERT INTO objection_voids (objection_id, actor, reason, at) VALUES ($1, $2, $3, $4)

-- name: objections: end its active row (objection.go voidObjection)
-- args: ["01JNPREV000000000000000001"]
-- rows: 1
DELETE FROM active_objections WHERE objection_id = $1
