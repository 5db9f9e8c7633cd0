// Package httpapi is verzet's /v1 HTTP API for dialers and integrators: the
// dial-time callability check, list scrubbing, objections, relations,
// consents, offers, the per-person evidence pack, orgs and tokens, and the
// signed webhooks that announce every new or voided objection.
//
// Main types: Server (New, Handler, Run) and its Config. Callers
// authenticate with bearer tokens (access.Token, stored as hashes);
// each route needs one access.Permission, which a token's role has or
// not. Errors are RFC 9457 application/problem+json naming the field and
// value. The routes are documented in openapi.json, served at
// /v1/openapi.json; a test keeps the two in step.
//
// Dial-time answers are never cached: every callability check and scrub
// reads the store, so an objection committed by any process is honoured by
// the next question (docs/compliance.md REQ-6).
//
// Dial-time checks are honour evidence (docs/compliance.md §3.3): every answer of
// GET /v1/callability carries the list version it was decided on (the
// event log position its facts were read at), and when the server has a
// decision log (Stores.Decisions, migration 007) every blocked check
// is logged in full with that version and the asking token's name, and
// every check is counted per org, Europe/Amsterdam day, result and main
// reason. The log is written asynchronously from a bounded buffer that
// Server.Run flushes (decisionLog): a check never waits on it, a full
// buffer drops records (verzet_decision_log_dropped_total), and
// verzet_revocation_first_block_seconds measures each objection's time
// from commit to the first dial attempt it blocked. Scrubs are not logged:
// a scrub prepares a list, it is not a dial attempt.
//
// Long answers stream: the scrub and the exports (GET /v1/objections/export,
// /v1/offers/export, in the CSV shapes of objections.ExportRow and
// OfferExportRow) write as they read, in constant memory, and a failure
// after the first byte aborts the transfer rather than end a short answer
// as if it were whole.
//
// Reads of personal data are audited in the log the supervisors' UI keeps
// (access.AuditEntry, actor "token:ID (name)"): the three exports
// (action export, with their filter) and the evidence of a number or an
// objection (action view). As in the UI, a read whose entry cannot be
// written is refused with 503.
//
// Webhooks go through the stores' transactional outbox (migration 005): a
// trigger writes a delivery per target in the objection's own transaction;
// the relay here claims the oldest undelivered event of each number, POSTs
// it signed with HMAC-SHA256, and retries with backoff until a 2xx.
//
// The package imports objections, objections/access, zap and the
// Prometheus client only (README, Architecture). What it needs of a store beyond
// the register's objections.Store comes in Stores, wired by cmd: the
// tokens (access.TokenStore) and the capabilities it declares itself,
// Auditor, Outbox, DecisionLog, FactsBatch and FactsMany; nothing is found
// by asking the store at run time. PromptTexts is an Option.
package httpapi
