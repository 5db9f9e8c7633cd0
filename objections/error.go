package objections

import (
	"errors"
	"fmt"
)

// Error codes. Adapters map them to an IVR outcome or an HTTP status; nothing
// else inspects error strings.
const (
	EINVALID     = "invalid"     // the input is wrong; retrying will not help
	ENOTFOUND    = "not_found"   // the thing asked for does not exist
	ECONFLICT    = "conflict"    // the write clashes with what is stored
	EINTERNAL    = "internal"    // a bug or an unexpected store failure
	EUNAVAILABLE = "unavailable" // the store cannot be reached; retry later
)

// Error is the domain error. Field and Value name the offending input when
// there is one, so that every message a user sees says what was wrong.
type Error struct {
	Code    string
	Field   string
	Value   string
	Message string
	Err     error
	// Closest are the known values nearest to a mistyped one (UnknownOrg).
	Closest []string
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Message)
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the field and the value.
func Invalid(field, value, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Value: value, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns an ENOTFOUND error naming what was looked up.
func NotFound(field, value string) *Error {
	return &Error{Code: ENOTFOUND, Field: field, Value: value, Message: "not found"}
}

// Internal wraps an unexpected error as EINTERNAL with what was being done.
func Internal(doing string, err error) *Error {
	return &Error{Code: EINTERNAL, Message: doing, Err: err}
}

// Unavailable wraps an error that means the store could not be reached.
func Unavailable(doing string, err error) *Error {
	return &Error{Code: EUNAVAILABLE, Message: doing, Err: err}
}

// Coded reports whether err carries a code: an *Error in its chain. Stores
// pass such an error through their boundary unchanged.
func Coded(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human-readable message of err. Internal errors get a
// generic text so that driver details never reach a caller.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL && e.Code != EUNAVAILABLE {
		return e.Error()
	}
	if errors.As(err, &e) && e.Code == EUNAVAILABLE {
		// Field names the service that could not be reached when it is
		// not the store (Twilio's REST API for a hand-off).
		if e.Field != "" {
			return e.Field + " unavailable"
		}
		return "store unavailable"
	}
	return "internal error"
}
