package httpapi

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Auditor is met by stores that keep the audit log of the supervisors' UI
// (both of verzet's). Supervisors read personal data through the API too:
// exports, evidence packs and an objection's evidence are written to the
// same log, with the token as actor.
type Auditor interface {
	AppendAudit(ctx context.Context, e access.AuditEntry) error
}

// audit records that tok reads personal data. Like the UI it fails closed:
// when the entry cannot be written the read is not done, and the caller
// answers 503 ("audit log unavailable"). A store without an audit log
// records nothing.
func (s *Server) audit(r *http.Request, tok access.Token, action access.AuditAction, subject, detail string, orgs access.Scope) error {
	if s.auditor == nil {
		return nil
	}
	e, err := access.NewAuditEntry(s.now(), actor(tok), action, subject, detail, remoteAddr(r))
	e.Orgs = orgs
	if err == nil {
		err = s.auditor.AppendAudit(r.Context(), e)
	}
	if err != nil {
		return &objections.Error{Code: objections.EUNAVAILABLE, Field: "audit log", Message: "write audit entry", Err: err}
	}
	return nil
}

// remoteAddr is the client's address without the port.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// auditDetail says what a read selected, for the audit log: the
// parameters as the API understood them, "org=acme number=+31612345678",
// in the order given; empty values are left out.
func auditDetail(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			parts = append(parts, pairs[i]+"="+pairs[i+1])
		}
	}
	return strings.Join(parts, " ")
}

// auditTime writes a filter's time for auditDetail; "" for the zero time.
func auditTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// exportFormat is the format an export answers r in.
func exportFormat(r *http.Request) string {
	if accepts(r, "application/x-ndjson") || accepts(r, "application/ndjson") {
		return "ndjson"
	}
	return "csv"
}

// auditList records that tok reads a page of a list of personal data
// (what: objections, offers, decisions) with the filter in pairs, before
// it is read; the detail says "list" and the filter, the cursor included.
// It fails closed like audit.
func (s *Server) auditList(r *http.Request, tok access.Token, orgs access.Scope, what string, pairs ...string) error {
	return s.audit(r, tok, access.AuditView, what, strings.TrimSpace("list "+auditDetail(pairs...)), orgs)
}
