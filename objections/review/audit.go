package review

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
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

// auditPhrases are the fixed details the audit log holds, and the fixed
// words that start some (the API's "list", "evidence pack").
var auditPhrases = map[string]string{
	"unknown user name":                       "audit.d.unknownName",
	"user disabled":                           "audit.d.disabled",
	"first admin created":                     "audit.d.firstAdmin",
	"unused first admin given a new password": "audit.d.firstAdminAgain",
	"set with verzet users password":          "audit.d.cliPassword",
	"all objections":                          "audit.d.allObjections",
	"all calls":                               "audit.d.allCalls",
	"evidence pack":                           "audit.d.pack",
	"list":                                    "audit.d.list",
}

// auditKeys are the keys of key=value details the page names in the
// reader's language; their values are shown as written, but for those
// auditValue translates.
var auditKeys = map[string]bool{"number": true, "org": true, "campaign": true, "source": true, "status": true, "since": true,
	"until": true, "person": true, "lang": true, "format": true, "role": true, "orgs": true, "was_role": true, "was_orgs": true,
	"reference": true, "call": true, "outcome": true, "agent": true, "after": true}

// auditDetailText writes an entry's detail for a reader of language l:
// a known fixed detail translated; key=value pairs (auditKV, and the
// API's) with their keys and known values translated; anything else (a
// void's reason) as written.
func auditDetailText(l lexicon, action access.AuditAction, detail string) string {
	if detail == "" || action == access.AuditVoid {
		return detail
	}
	if key, ok := auditPhrases[detail]; ok {
		return l.T(key)
	}
	var lead []string
	var parts []string
	rest := detail
	for rest != "" {
		word, after, _ := strings.Cut(rest, " ")
		k, v, isPair := strings.Cut(word, "=")
		if !isPair {
			if len(parts) > 0 {
				return detail // words after the pairs: not a detail this page knows
			}
			lead = append(lead, word)
			rest = after
			continue
		}
		if strings.HasPrefix(v, `"`) {
			// A quoted value runs to its closing quote.
			q, err := strconv.QuotedPrefix(strings.TrimPrefix(rest, k+"="))
			if err != nil {
				return detail
			}
			v, _ = strconv.Unquote(q)
			after = strings.TrimPrefix(strings.TrimPrefix(rest, k+"="+q), " ")
		}
		if !auditKeys[k] {
			return detail
		}
		parts = append(parts, l.T("audit.k."+k)+": "+auditValue(l, k, v))
		rest = after
	}
	head := strings.Join(lead, " ")
	if key, ok := auditPhrases[head]; ok {
		head = l.T(key)
	} else if head != "" {
		return detail
	}
	switch {
	case head == "":
		return strings.Join(parts, ", ")
	case len(parts) == 0:
		return head
	}
	return head + " — " + strings.Join(parts, ", ")
}

// auditValue translates the values of a detail that have words: roles,
// sources, statuses, outcomes, "all" orgs, and times.
func auditValue(l lexicon, k, v string) string {
	switch k {
	case "role", "was_role":
		if access.ValidUserRole(access.Role(v)) {
			return l.T("role." + v)
		}
	case "orgs", "was_orgs":
		if v == "all" {
			return l.T("users.allOrgs")
		}
		return strings.ReplaceAll(v, ",", ", ")
	case "source":
		if objections.Source(v).Valid() {
			return l.T("source." + v)
		}
	case "status":
		if objections.Status(v).Valid() {
			return l.T("status." + v)
		}
	case "outcome":
		if objections.Outcome(v).Valid() {
			return l.T("outcome." + v)
		}
	case "since", "until":
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return l.DateTime(t)
		}
	}
	return v
}

// auditLink is the page an entry's subject names: a call's page for the
// view of a call (its detail names the call), an objection's for another
// id; "" for a subject that is no record (a user name, a number).
func auditLink(e access.AuditEntry) string {
	if !isID(e.Subject) {
		return ""
	}
	if strings.HasPrefix(e.Detail, "call=") {
		return callURL(e.Subject)
	}
	return "/ui/objections/" + url.PathEscape(e.Subject)
}

// isID reports whether s is shaped like a record id (a ULID).
func isID(s string) bool {
	return len(s) == 26 && strings.Trim(s, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") == ""
}
