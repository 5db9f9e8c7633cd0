//go:build !testfast

package pgtest

// fastMode is off: a test that needs PostgreSQL fails without one.
const fastMode = false
