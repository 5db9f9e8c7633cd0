// Package postgres is the PostgreSQL implementation of objections.Store,
// built on pgx and pgxpool (no database/sql).
//
// Open connects and checks the server; Migrate applies the embedded,
// numbered migrations in migrations/ (tern format) under an advisory lock, so
// two processes starting at once do not race.
//
// The schema keeps the evidence append-only: objections, voids, offers and
// events are only inserted, and triggers refuse UPDATE, DELETE and TRUNCATE
// on them. A void is a row of its own (one per objection: its primary key),
// and the status "voided" is derived from it. "One active objection per org
// and number" is the primary key of active_objections, a derived table whose
// row a void deletes, so it holds even for a writer that bypasses this
// package.
//
// Every transaction that appends to the hash-chained event log first locks
// the single event_head row (SELECT … FOR UPDATE). That serialises writers
// across processes, so events are chained in commit order, and it is also
// what makes RecordObjection's repeat checks exact: they run after the lock,
// in a statement that sees every earlier commit. Because the lock is held
// through the commit's fsync, a Store sends its chained writes through one
// writer goroutine that commits whatever arrived meanwhile in one
// transaction (chain.go); Close stops it.
//
// Facts reads the org, objections, consents and relations of a number in
// one pipelined round trip.
//
// Driver errors are translated at this boundary into objections error codes
// (see translate); pgconn types never leave the package, and error messages
// never carry the values of a row (phone numbers).
//
// This package imports only objections, objections/access and pgx.
package postgres
