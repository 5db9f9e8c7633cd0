package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/verzet/verzet/objections"
)

// translate turns a driver error into an objections error with a code, saying
// what was being done. The driver error is flattened to text and not
// wrapped, so that pgconn types never cross the package boundary; the text
// keeps the SQLSTATE and constraint but never the row values PostgreSQL puts
// in Detail (those may be phone numbers).
//
//   - 23505 unique_violation: ECONFLICT
//   - other class 23 (integrity) and class 22 (data exception): EINVALID
//   - connection failures, timeouts, class 08, 53, 57P01–57P03: EUNAVAILABLE
//   - anything else: EINTERNAL
//
// An error that already carries a code is returned as it is.
func translate(doing string, err error) error {
	if err == nil || objections.Coded(err) {
		return err
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// The connect error names host, user and database; keep only its
		// cause (a refused dial, a timeout, a FATAL from the server).
		return objections.Unavailable(doing, fmt.Errorf("connect to PostgreSQL: %w", flatten(rootCause(err))))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := pgMessage(pe)
		switch {
		case pe.Code == "23505":
			return &objections.Error{Code: objections.ECONFLICT, Message: doing + ": already stored (" + pe.ConstraintName + ")"}
		case strings.HasPrefix(pe.Code, "23"), strings.HasPrefix(pe.Code, "22"):
			return &objections.Error{Code: objections.EINVALID, Message: doing + ": " + msg}
		case unavailableState(pe.Code):
			return objections.Unavailable(doing, errors.New(msg))
		case pe.Code == "42P01": // undefined_table
			return objections.Internal(doing, errors.New(msg+": the schema is missing; migrate the database first"))
		}
		return objections.Internal(doing, errors.New(msg))
	}
	if unavailable(err) {
		return objections.Unavailable(doing, flatten(err))
	}
	if errors.Is(err, context.Canceled) {
		// Keep errors.Is(err, context.Canceled) working for the caller.
		return objections.Internal(doing, fmt.Errorf("%s: %w", flatten(err), context.Canceled))
	}
	return objections.Internal(doing, flatten(err))
}

// notFound maps pgx.ErrNoRows to ENOTFOUND naming field and value.
func notFound(err error, field, value string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return objections.NotFound(field, value)
	}
	return err
}

// conflictAs returns as when err is ECONFLICT (a unique index refused the
// write), and err otherwise: the caller knows which index it can be.
func conflictAs(err, as error) error {
	if objections.ErrorCode(err) == objections.ECONFLICT {
		return as
	}
	return err
}

// unavailable reports whether err means the server could not be reached or
// did not answer in time: retrying later may succeed.
func unavailable(err error) bool {
	var ne net.Error
	switch {
	case pgconn.Timeout(err), errors.As(err, &ne),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	// puddle's ErrClosedPool is not ours to import; a closed pool is a store
	// that is gone.
	return strings.Contains(err.Error(), "closed pool")
}

// unavailableState reports whether a SQLSTATE means "try again later":
// connection exceptions, insufficient resources, server shutting down or
// starting up.
func unavailableState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"),
		code == "57P01", code == "57P02", code == "57P03":
		return true
	}
	return false
}

// pgMessage is the text of a server error without its Detail (row values).
func pgMessage(pe *pgconn.PgError) string {
	msg := pe.Severity + ": " + pe.Message + " (SQLSTATE " + pe.Code
	if pe.ConstraintName != "" {
		msg += ", constraint " + pe.ConstraintName
	}
	return msg + ")"
}

// flatten keeps an error's text and drops its chain, so that driver types
// do not escape. A server error inside (for example a FATAL at connect) is
// reduced to pgMessage so that Detail stays out.
func flatten(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return errors.New(pgMessage(pe))
	}
	return errors.New(err.Error())
}

// rootCause follows a chain of single wrappers to its end; a server error on
// the way is the cause.
func rootCause(err error) error {
	for {
		if _, ok := err.(*pgconn.PgError); ok {
			return err
		}
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
