package main

import (
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/httpapi"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/review"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/telephony/ari"
)

// This file is where the store meets the rest of verzet. A store is one
// object with many capabilities; each part of verzet declares the few it
// uses (objections.Store, access.Store, httpapi.Outbox, review.Records,
// twilio.Calls, …). Opening the configured store fills a stores with
// every capability, typed as its user declares it, from the concrete
// store: the compiler checks that the store has each one, and nothing
// asks the store at run time what else it can do.

// stores holds the capabilities of the opened store, in the order the
// parts of serve use them.
type stores struct {
	// Register is the register's storage (objections.Register).
	Register objections.Store
	// Calls keeps the state of live Twilio calls between webhooks, and
	// purges it (twilio feature).
	Calls twilioCalls
	// Access keeps users, sessions, the audit log and API tokens (api
	// and ui features, the tokens and users commands).
	Access access.Store
	// Outbox hands out webhook deliveries (api feature).
	Outbox httpapi.Outbox
	// Decisions is the log of dial-time checks (api and ui features).
	Decisions httpapi.DecisionLog
	// FactsBatch reads a scrub's numbers at once (api feature).
	FactsBatch httpapi.FactsBatch
	// FactsMany answers concurrent dial-time checks together (api
	// feature); nil for SQLite, whose reads are local.
	FactsMany httpapi.FactsMany
	// Records are the register's reads for the supervisors' UI (ui
	// feature).
	Records review.Records
	// Peers are the instances' heartbeats and takeovers (ari feature).
	Peers ari.Peers
	// Prompts keeps prompt audio and what composed prompts said (ivr
	// feature, the prompts and orgs commands).
	Prompts promptStore

	// pg is the PostgreSQL store itself, nil on SQLite: for what only
	// PostgreSQL has (its schema version).
	pg *postgres.Store
	// copy opens the store as either end of verzet copy, and backs it up
	// (verzet backup; copy.go).
	copy  copyEnds
	close func() error
}

// store is every capability both stores have, checked by the compiler
// where postgresStores and sqliteStores hand their store to wire.
type store interface {
	objections.Store
	twilioCalls
	access.Store
	httpapi.Outbox
	httpapi.DecisionLog
	httpapi.FactsBatch
	review.Records
	ari.Peers
	promptStore
}

// wire fills stores with the capabilities both stores have.
func wire(s store) *stores {
	return &stores{Register: s, Calls: s, Access: s, Outbox: s, Decisions: s, FactsBatch: s, Records: s, Peers: s, Prompts: s, close: s.Close}
}

// postgresStores wires every capability of a PostgreSQL store, with the
// batched dial-time read only it has.
func postgresStores(s *postgres.Store) *stores {
	st := wire(s)
	st.FactsMany, st.pg = s, s
	st.copy = postgresCopyEnds(s)
	return st
}

// sqliteStores wires every capability of the embedded SQLite store.
func sqliteStores(s *sqlite.Store) *stores {
	st := wire(s)
	st.copy = sqliteCopyEnds(s)
	return st
}

// Close releases the store.
func (s *stores) Close() error { return s.close() }

// newRegister returns the register over the store, with the configured
// region for numbers.
func (s *stores) newRegister(cfg *Config) *objections.Register {
	return objections.NewRegister(s.Register, objections.Numbers{Region: cfg.Numbers.Region}, nil)
}

// api is what the /v1 API uses besides the register.
func (s *stores) api() httpapi.Stores {
	return httpapi.Stores{Tokens: s.Access, Audit: s.Access, Outbox: s.Outbox, Decisions: s.Decisions,
		FactsBatch: s.FactsBatch, FactsMany: s.FactsMany}
}

// ui is what the supervisors' UI uses besides the register.
func (s *stores) ui() review.Stores {
	return review.Stores{Access: s.Access, Records: s.Records, Decisions: s.Decisions}
}
