package review

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verzet/verzet/objections/access"
)

type auditData struct {
	Actor   string
	Action  string
	Actions []access.AuditAction
	Entries []access.AuditEntry
	NextURL string
	Error   string
}

var allActions = []access.AuditAction{access.AuditSignIn, access.AuditSignInFailed,
	access.AuditSignInLocked, access.AuditSignOut, access.AuditView, access.AuditExport,
	access.AuditVoid, access.AuditObjection, access.AuditPasswordChanged, access.AuditPasswordReset, access.AuditUserCreated,
	access.AuditUserChanged, access.AuditUserDisabled, access.AuditUserEnabled, access.AuditBootstrap}

const auditPageSize = 100

// auditPage shows the audit log, newest first, to admins; to an admin
// scoped to some orgs, the entries that concern one of them (see
// access.AuditEntry.Orgs: not sign-ins, nor what concerned every org).
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// User names are lower case; an API token's actor ("token:ID (name)")
	// keeps its upper-case id.
	actor := strings.TrimSpace(q.Get("actor"))
	if !strings.HasPrefix(actor, "token:") {
		actor = strings.ToLower(actor)
	}
	d := auditData{Actor: actor, Action: q.Get("action"), Actions: allActions}
	f := access.AuditFilter{Scope: viewerFrom(r.Context()).User.Orgs, Actor: d.Actor, Action: access.AuditAction(d.Action),
		Before: q.Get("before"), Limit: auditPageSize}
	if d.Action != "" && !f.Action.Valid() {
		d.Error = s.lexicon(r).T("audit.badAction", d.Action)
		s.render(w, r, http.StatusUnprocessableEntity, "audit", s.newPage(r, "audit.title", "audit", d))
		return
	}
	entries, err := s.access.AuditLog(r.Context(), f)
	if err != nil {
		s.fail(w, r, "read audit log", err)
		return
	}
	d.Entries = entries
	if len(entries) == auditPageSize {
		v := url.Values{"before": {entries[len(entries)-1].ID}}
		if d.Actor != "" {
			v.Set("actor", d.Actor)
		}
		if d.Action != "" {
			v.Set("action", d.Action)
		}
		d.NextURL = "/ui/audit?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", s.newPage(r, "audit.title", "audit", d))
}

// auditKV writes the detail of an audit entry as key=value pairs, as the
// API does, leaving out empty values; a value with a space or a quote is
// quoted (Go syntax). The audit page shows the keys it knows in the
// reader's language (auditDetailText).
func auditKV(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, " \"\t\n") {
			v = strconv.Quote(v)
		}
		parts = append(parts, pairs[i]+"="+v)
	}
	return strings.Join(parts, " ")
}
