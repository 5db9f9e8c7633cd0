package access

import (
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// AuditAction names what an audit entry records.
type AuditAction string

// Audit actions.
const (
	AuditSignIn          AuditAction = "sign_in"
	AuditSignInFailed    AuditAction = "sign_in_failed"
	AuditSignInLocked    AuditAction = "sign_in_locked"
	AuditSignOut         AuditAction = "sign_out"
	AuditView            AuditAction = "view"   // an objection's detail page; an API read of an objection or a number's evidence pack
	AuditExport          AuditAction = "export" // a CSV export; an API export (CSV or NDJSON)
	AuditVoid            AuditAction = "void"
	AuditPasswordChanged AuditAction = "password_changed"
	AuditUserCreated     AuditAction = "user_created"
	AuditBootstrap       AuditAction = "bootstrap"
	AuditUserDisabled    AuditAction = "user_disabled"
	AuditUserEnabled     AuditAction = "user_enabled"
	AuditUserChanged     AuditAction = "user_changed"   // role or org scope
	AuditPasswordReset   AuditAction = "password_reset" // by an administrator
	AuditObjection       AuditAction = "objection"      // an objection recorded by hand in the UI
)

// Valid reports whether a is a known action.
func (a AuditAction) Valid() bool {
	switch a {
	case AuditSignIn, AuditSignInFailed, AuditSignInLocked, AuditSignOut, AuditView, AuditExport,
		AuditVoid, AuditPasswordChanged, AuditUserCreated, AuditBootstrap, AuditUserDisabled, AuditUserEnabled,
		AuditUserChanged, AuditPasswordReset, AuditObjection:
		return true
	}
	return false
}

// AuditEntry is one line of the UI's audit log: who did what, when; the
// API adds its reads of personal data. The log is append-only. Detail never holds a password; it may hold a search
// filter (and so a phone number), which is why only admins read it.
type AuditEntry struct {
	ID      string      `json:"id"`
	At      time.Time   `json:"at"`
	Actor   string      `json:"actor"` // user name, "cli", or "token:ID (name)" for the API
	Action  AuditAction `json:"action"`
	Subject string      `json:"subject,omitempty"` // objection id, user name
	Detail  string      `json:"detail,omitempty"`  // filter of an export, reason of a void
	Remote  string      `json:"remote,omitempty"`  // client address
	// Orgs are the orgs whose data the action concerned (sorted): a read's
	// org, else the reader's scope; for a sign-in, sign-out or password
	// change the user's scope, so that an admin of those orgs sees it.
	// Empty when it concerned every org.
	Orgs Scope `json:"orgs,omitempty"`
}

// NewAuditEntry returns an entry stamped with an id and time. EINVALID for
// an unknown action or a missing actor.
func NewAuditEntry(at time.Time, actor string, action AuditAction, subject, detail, remote string) (AuditEntry, error) {
	if !action.Valid() {
		return AuditEntry{}, objections.Invalid("action", string(action), "is not a known audit action")
	}
	if strings.TrimSpace(actor) == "" {
		return AuditEntry{}, objections.Invalid("actor", actor, "is empty")
	}
	at = objections.StoredTime(at)
	return AuditEntry{ID: objections.NewID(at), At: at, Actor: clip(actor, objections.MaxRef), Action: action,
		Subject: clip(subject, objections.MaxRef), Detail: clip(detail, 2000), Remote: clip(remote, 128)}, nil
}

// CheckStorable validates what a store needs of an entry made by
// NewAuditEntry, and brings its time to what the stores keep (UTC,
// microseconds). EINVALID without id, time, actor or a known action.
func (e *AuditEntry) CheckStorable() error {
	if e.ID == "" || e.Actor == "" || !e.Action.Valid() || e.At.IsZero() {
		return objections.Invalid("audit entry", string(e.Action), "needs an id, a time, an actor and a known action")
	}
	orgs, err := e.Orgs.Normalize()
	if err != nil {
		return err
	}
	e.Orgs = orgs
	e.At = objections.StoredTime(e.At)
	return nil
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !startsRune(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func startsRune(b byte) bool { return b&0xC0 != 0x80 }

// AuditFilter selects audit entries, newest first in the order they were
// written. Zero fields match everything.
type AuditFilter struct {
	// Scope, when not empty, keeps the entries that concern one of these
	// orgs.
	Scope  Scope
	Actor  string
	Action AuditAction
	// Before is the cursor: the id of the last entry of the previous page.
	Before string
	Limit  int // default 100, at most 1000
}

// PageLimit returns the effective page size of f.
func (f AuditFilter) PageLimit() int { return objections.PageLimit(f.Limit) }
