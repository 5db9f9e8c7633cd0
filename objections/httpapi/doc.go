// Package httpapi is verzet's /v1 HTTP API for dialers and integrators: the
// dial-time callability check, list scrubbing, objections, relations,
// consents, offers, the per-person evidence pack, orgs and tokens, and the
// signed webhooks that announce every new or voided objection.
//
// Main types: Server (New, Handler, Run) and its Config. Callers
// authenticate with bearer tokens (objections.Token, stored as hashes);
// each route needs one objections.Permission, which a token's role has or
// not. Errors are RFC 9457 application/problem+json naming the field and
// value. The routes are documented in openapi.json, served at
// /v1/openapi.json; a test keeps the two in step.
//
// Dial-time answers are never cached: every callability check and scrub
// reads the store, so an objection committed by any process is honoured by
// the next question (domain.md REQ-6).
//
// Webhooks go through the stores' transactional outbox (migration 005): a
// trigger writes a delivery per target in the objection's own transaction;
// the relay here claims the oldest undelivered event of each number, POSTs
// it signed with HMAC-SHA256, and retries with backoff until a 2xx.
//
// The package imports objections, zap and the Prometheus client only
// (STYLE.md §1). What it needs beyond objections.Store it declares itself:
// TokenStore, Outbox, and the optional FactsOne, FactsBatch and
// PromptTexts.
package httpapi
