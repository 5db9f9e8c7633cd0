package objections

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what an API token may do. Roles are not a ladder: each grants a
// fixed set of permissions (see Role.Can).
type Role string

// Roles.
const (
	// RoleDialer asks whether a number may be called, one at a time or a
	// whole list.
	RoleDialer Role = "dialer"
	// RoleIntegrator is a dialer that also writes relations, consents and
	// objections (a CRM, a web form).
	RoleIntegrator Role = "integrator"
	// RoleSupervisor reads and exports everything; it writes nothing.
	RoleSupervisor Role = "supervisor"
	// RoleAdmin may do everything, including voiding objections and
	// managing orgs and tokens.
	RoleAdmin Role = "admin"
)

// Roles lists every role, least to most powerful.
func Roles() []Role { return []Role{RoleDialer, RoleIntegrator, RoleSupervisor, RoleAdmin} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleDialer, RoleIntegrator, RoleSupervisor, RoleAdmin:
		return true
	}
	return false
}

// Permission is one thing a role may do.
type Permission string

// Permissions.
const (
	PermCheck  Permission = "check"  // callability and scrub
	PermWrite  Permission = "write"  // relations, consents, objections
	PermRead   Permission = "read"   // objections, offers, evidence packs, orgs
	PermManage Permission = "manage" // void objections, set orgs, manage tokens
)

// Can reports whether role r has permission p.
func (r Role) Can(p Permission) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleSupervisor:
		return p == PermCheck || p == PermRead
	case RoleIntegrator:
		return p == PermCheck || p == PermWrite
	case RoleDialer:
		return p == PermCheck
	}
	return false
}

// TokenPrefix starts every API token, so that a leaked one is recognisable
// (secret scanners, logs).
const TokenPrefix = "vzt_"

// tokenSecretBytes is the entropy of a token: 256 random bits. With that
// much entropy a plain SHA-256 is a safe way to store it (no password
// hashing needed: there is nothing to brute-force).
const tokenSecretBytes = 32

// Token is an API token as stored: its secret is kept only as a SHA-256
// hash. The bearer string is TokenPrefix + ID + "_" + secret; the ID finds
// the row and the secret is compared in constant time with the hash.
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Hash is the hex SHA-256 of the secret part of the bearer string.
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Active reports whether t may be used at time at.
func (t Token) Active(at time.Time) bool {
	return t.RevokedAt == nil || t.RevokedAt.After(at)
}

// NewToken returns a new token record named name with role and the bearer
// string to hand to its user once; only the record is stored. EINVALID
// names the field.
func NewToken(name string, role Role, createdBy string, now time.Time) (Token, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return Token{}, "", Invalid("name", name, "is empty")
	case utf8.RuneCountInString(name) > 128:
		return Token{}, "", Invalid("name", name, "is longer than 128 characters")
	case !role.Valid():
		return Token{}, "", Invalid("role", string(role), "must be one of dialer, integrator, supervisor, admin")
	}
	var secret [tokenSecretBytes]byte
	_, _ = rand.Read(secret[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	s := base64.RawURLEncoding.EncodeToString(secret[:])
	now = now.UTC().Truncate(time.Microsecond)
	t := Token{ID: NewID(now), Name: name, Role: role, Hash: HashTokenSecret(s), CreatedAt: now, CreatedBy: createdBy}
	return t, TokenPrefix + t.ID + "_" + s, nil
}

// HashTokenSecret returns the stored form of a token secret.
func HashTokenSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// ParseToken splits a bearer string into the token id and its secret.
// EINVALID when it is not shaped like a verzet token; the value is never
// echoed (it may be a real secret with a typo).
func ParseToken(bearer string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(bearer, TokenPrefix)
	if ok {
		id, secret, ok = strings.Cut(rest, "_")
	}
	if !ok || len(id) != 26 || len(secret) != base64.RawURLEncoding.EncodedLen(tokenSecretBytes) {
		return "", "", Invalid("token", "", "is not a verzet API token (vzt_…)")
	}
	return id, secret, nil
}

// Matches reports, in constant time, whether secret is t's secret.
func (t Token) Matches(secret string) bool {
	want, err := hex.DecodeString(t.Hash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}
