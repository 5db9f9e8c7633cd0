package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/verzet/verzet/objections"
)

// coder is met by the driver's errors: the SQLite (extended) result code.
type coder interface{ Code() int }

// translate translates err at the store's boundary. objections errors pass
// unchanged; a constraint violation is ECONFLICT; a busy, locked, full or
// failing database, or an ended context, is EUNAVAILABLE; anything else is
// EINTERNAL. The driver's error is replaced by its message.
func translate(doing string, err error) error {
	if err == nil || objections.Coded(err) {
		return err
	}
	var c coder
	if errors.As(err, &c) {
		switch c.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			return &objections.Error{Code: objections.ECONFLICT, Message: doing + ": conflicts with a stored record", Err: flatten(err)}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT:
			return objections.Unavailable(doing, flatten(err))
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) {
		return objections.Unavailable(doing, flatten(err))
	}
	return objections.Internal(doing, flatten(err))
}

// flatten returns err without the driver's types in its chain; the context
// errors stay matchable with errors.Is.
func flatten(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", err.Error(), context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", err.Error(), context.DeadlineExceeded)
	}
	return errors.New(err.Error())
}

// notFound maps sql.ErrNoRows to ENOTFOUND naming field and value.
func notFound(err error, field, value string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return objections.NotFound(field, value)
	}
	return err
}
