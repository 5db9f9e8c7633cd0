package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

// problemType prefixes the type of every problem document.
const problemType = "urn:verzet:problem:"

// Problem codes beyond the objections error codes.
const (
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeTooLarge         = "too_large"
	codeRateLimited      = "rate_limited"
	codeUnsupportedMedia = "unsupported_media_type"
	codeNotAcceptable    = "not_acceptable"
	codeMethodNotAllowed = "method_not_allowed"
)

// problem is an RFC 9457 problem document. Field and Value name the
// offending input, Line the line of a bulk body.
type problem struct {
	Type   string  `json:"type"`
	Title  string  `json:"title"`
	Status int     `json:"status"`
	Detail string  `json:"detail,omitempty"`
	Code   string  `json:"code"`
	Field  string  `json:"field,omitempty"`
	Value  *string `json:"value,omitempty"`
	Line   int     `json:"line,omitempty"`
	// Closest are the known values nearest to a mistyped one: the org ids
	// of an unknown org.
	Closest []string `json:"closest,omitempty"`
}

// apiError is an error with its own status, for what objections has no
// code for (authentication, limits, media types).
type apiError struct {
	status int
	code   string
	field  string
	value  string
	detail string
	// retryAfter is the Retry-After header in seconds, when set.
	retryAfter int
}

func (e *apiError) Error() string { return e.detail }

func errInvalid(field, value, detail string) error {
	return &objections.Error{Code: objections.EINVALID, Field: field, Value: value, Message: detail}
}

// statusOf maps an objections error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case objections.EINVALID:
		return http.StatusBadRequest
	case objections.ENOTFOUND:
		return http.StatusNotFound
	case objections.ECONFLICT:
		return http.StatusConflict
	case objections.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// toProblem turns any error into the problem the client sees. Internal
// errors get a generic text; their cause is logged by writeError.
func toProblem(err error) problem {
	var ae *apiError
	if errors.As(err, &ae) {
		p := problem{Status: ae.status, Code: ae.code, Detail: ae.detail, Field: ae.field}
		if ae.field != "" {
			v := ae.value
			p.Value = &v
		}
		return p.fill()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge,
			Detail: "the request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}.fill()
	}
	code := objections.ErrorCode(err)
	p := problem{Status: statusOf(code), Code: code, Detail: objections.ErrorMessage(err)}
	var oe *objections.Error
	if errors.As(err, &oe) && oe.Field != "" && code != objections.EINTERNAL && code != objections.EUNAVAILABLE {
		v := oe.Value
		p.Field, p.Value, p.Detail, p.Closest = oe.Field, &v, oe.Message, oe.Closest
	}
	return p.fill()
}

func (p problem) fill() problem {
	p.Type = problemType + p.Code
	p.Title = http.StatusText(p.Status)
	return p
}

// writeError answers r with err as a problem document, and logs server
// faults (never the request path: it may hold a phone number).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := toProblem(err)
	if p.Status >= 500 {
		s.log.Error("request failed", zap.String("route", r.Pattern), zap.Int("status", p.Status), zap.Error(err))
	}
	var ae *apiError
	if errors.As(err, &ae) && ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	if p.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="verzet"`)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problem) {
	b, _ := json.Marshal(p) // a problem always encodes
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}
