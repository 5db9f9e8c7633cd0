// Package sqlite is the embedded default implementation of objections.Store,
// on modernc.org/sqlite (pure Go, no cgo) through database/sql.
//
// One file holds the whole register. It is opened in WAL mode with
// synchronous=FULL, so that an objection is on disk when RecordObjection
// returns, and with foreign keys on. Every write runs in a BEGIN IMMEDIATE
// transaction: it takes the database's write lock before reading anything, so
// that the idempotency checks, the insert and the hash-chained event that
// follows the current head of the log are one step, also when several
// processes share the file. Writers of one Store queue in the process;
// writers in other processes wait for the lock up to the busy timeout.
//
// Times are kept as fixed-width UTC text (2006-01-02T15:04:05.000000Z), exact
// to the microsecond and sortable; dates as 2006-01-02. The schema lives in
// numbered files in migrations/, embedded and applied by Store.Migrate.
//
// Driver errors stop here: they become objections errors (ECONFLICT for a
// constraint, EUNAVAILABLE for a busy, locked or failing database, EINTERNAL
// otherwise) carrying the driver's message only.
//
// The package imports objections, objections/access and
// modernc.org/sqlite, nothing else of this module.
package sqlite
