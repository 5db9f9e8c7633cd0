//go:build testfast

package pgtest

// fastMode is `make test-fast` (go test -tags testfast): the inner loop
// without PostgreSQL, where DSN skips. ./scripts/test and CI never set the
// tag: there a test without a database fails.
const fastMode = true
