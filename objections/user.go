package objections

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// This file holds what the supervisors' web UI (objections/review) keeps
// besides the register itself: the people who sign in (User), their
// sessions, the audit log of what they did, and the shapes of the
// dashboard's aggregates. Users are kept apart from API tokens: a token is
// a machine's credential, a user is a person with a password; both use the
// same roles (supervisor, admin).

// User is a person who signs in to the supervisors' UI. Only the roles
// RoleSupervisor and RoleAdmin sign in there.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"` // the user name typed at sign-in: lower case
	Role Role   `json:"role"`
	// PasswordHash is the encoded password hash (bcrypt); the domain does
	// not read it. Never shown, never logged.
	PasswordHash string `json:"-"`
	// MustChangePassword is set for the bootstrap admin and after an
	// administrator set a password: the next sign-in asks for a new one.
	MustChangePassword bool `json:"must_change_password"`
	// Bootstrap marks the admin serve made on its first start.
	Bootstrap bool      `json:"bootstrap"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	// FailedSignIns counts the failed sign-ins since the last good one;
	// LockedUntil, when after now, refuses every sign-in (see LockUntil).
	FailedSignIns int       `json:"failed_sign_ins"`
	LockedUntil   time.Time `json:"locked_until"`
	LastSignInAt  time.Time `json:"last_sign_in_at"`
}

// Locked reports whether u may not sign in at time at.
func (u User) Locked(at time.Time) bool { return u.LockedUntil.After(at) }

// ValidUserRole reports whether r is a role a person may have in the UI.
func ValidUserRole(r Role) bool { return r == RoleSupervisor || r == RoleAdmin }

// ValidateUserName checks a user name: 1–64 characters of [a-z0-9._@-],
// starting with a letter or digit. It returns EINVALID naming field "name".
func ValidateUserName(name string) error {
	if name == "" {
		return Invalid("name", name, "is empty")
	}
	if len(name) > 64 {
		return Invalid("name", name[:32]+"…", "is longer than 64 characters")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !ok && (i == 0 || !strings.ContainsRune("._@-", r)) {
			return Invalid("name", name, "may hold only lower-case letters, digits, '.', '_', '@' and '-', and must start with a letter or digit")
		}
	}
	return nil
}

// NewUser returns a user record named name (case-folded) with role and an
// already computed password hash. EINVALID names the field.
func NewUser(name string, role Role, passwordHash, createdBy string, now time.Time) (User, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if err := ValidateUserName(name); err != nil {
		return User{}, err
	}
	if !ValidUserRole(role) {
		return User{}, Invalid("role", string(role), "must be supervisor or admin")
	}
	if passwordHash == "" {
		return User{}, Invalid("password", "", "is empty")
	}
	now = now.UTC().Truncate(time.Microsecond)
	return User{ID: NewID(now), Name: name, Role: role, PasswordHash: passwordHash, CreatedAt: now, CreatedBy: createdBy}, nil
}

// Sign-in lockout: the first FreeSignInFailures failures in a row cost
// nothing; every further one locks the user for a time that doubles from
// FirstLock up to MaxLock. A good sign-in resets the count. Guessing is
// thus limited to a few dozen passwords a day per user, while a user who
// mistypes a few times is never shut out for long.
const (
	FreeSignInFailures = 5
	FirstLock          = 30 * time.Second
	MaxLock            = 15 * time.Minute
)

// LockUntil returns until when a user with failures failed sign-ins in a
// row is locked, counted from at; the zero time when not locked.
func LockUntil(failures int, at time.Time) time.Time {
	if failures < FreeSignInFailures {
		return time.Time{}
	}
	d := FirstLock
	for i := FreeSignInFailures; i < failures && d < MaxLock; i++ {
		d *= 2
	}
	d = min(d, MaxLock)
	return at.UTC().Truncate(time.Microsecond).Add(d)
}

// Session is a signed-in browser. Its ID is the hex SHA-256 of the secret
// in the session cookie, so that a copy of the database does not hold
// usable sessions; the secret has 256 random bits, which makes a plain hash
// safe.
type Session struct {
	ID        string    `json:"-"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	// SeenAt is the last request, kept to end idle sessions; updated at
	// most every few minutes.
	SeenAt    time.Time `json:"seen_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewSession returns a session for userID valid for ttl, and the secret to
// put in the cookie; only the session is stored.
func NewSession(userID string, now time.Time, ttl time.Duration) (Session, string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	now = now.UTC().Truncate(time.Microsecond)
	return Session{ID: HashSessionSecret(secret), UserID: userID, CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(ttl)}, secret
}

// HashSessionSecret returns the stored ID of the session whose cookie
// holds secret.
func HashSessionSecret(secret string) string {
	h := sha256.Sum256([]byte("verzet-session\x00" + secret))
	return hex.EncodeToString(h[:])
}

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
)

// Valid reports whether a is a known action.
func (a AuditAction) Valid() bool {
	switch a {
	case AuditSignIn, AuditSignInFailed, AuditSignInLocked, AuditSignOut, AuditView, AuditExport,
		AuditVoid, AuditPasswordChanged, AuditUserCreated, AuditBootstrap:
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
}

// NewAuditEntry returns an entry stamped with an id and time. EINVALID for
// an unknown action or a missing actor.
func NewAuditEntry(at time.Time, actor string, action AuditAction, subject, detail, remote string) (AuditEntry, error) {
	if !action.Valid() {
		return AuditEntry{}, Invalid("action", string(action), "is not a known audit action")
	}
	if strings.TrimSpace(actor) == "" {
		return AuditEntry{}, Invalid("actor", actor, "is empty")
	}
	at = at.UTC().Truncate(time.Microsecond)
	return AuditEntry{ID: NewID(at), At: at, Actor: clip(actor, maxRef), Action: action,
		Subject: clip(subject, maxRef), Detail: clip(detail, 2000), Remote: clip(remote, 128)}, nil
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
	Actor  string
	Action AuditAction
	// Before is the cursor: the id of the last entry of the previous page.
	Before string
	Limit  int // default 100, at most 1000
}

// PageLimit returns the effective page size of f.
func (f AuditFilter) PageLimit() int { return pageLimit(f.Limit) }

// ObjectionPage is one page of a newest-first objection search, and how
// many objections match in all.
type ObjectionPage struct {
	Objections []Objection
	Total      int
}

// MaxSearchOffset bounds how deep a newest-first search may page; narrower
// filters reach older objections.
const MaxSearchOffset = 100000

// StatsFilter selects the range of the dashboard's aggregates. Days are
// calendar days in Location (Europe/Amsterdam when nil); Since and Until
// bound received_at of objections and started_at of offers.
type StatsFilter struct {
	Org      string
	Campaign string
	Since    time.Time
	Until    time.Time
	Location *time.Location
}

// Loc returns the location days are counted in.
func (f StatsFilter) Loc() *time.Location {
	if f.Location == nil {
		return Amsterdam()
	}
	return f.Location
}

// DayStat counts, for one calendar day and one campaign, the objections
// received (Voided of them voided since) and the offers made (Objected of
// them ending in an objection). Campaign is "" for calls without one.
type DayStat struct {
	Day        string `json:"day"` // 2006-01-02 in the filter's location
	Campaign   string `json:"campaign"`
	Objections int    `json:"objections"`
	Voided     int    `json:"voided"`
	Offers     int    `json:"offers"`
	Objected   int    `json:"objected"`
}
