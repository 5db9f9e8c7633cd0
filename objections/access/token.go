package access

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verzet/verzet/objections"
)

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
	// Orgs are the orgs the token reaches (see Scope); empty: every org.
	Orgs Scope `json:"orgs,omitempty"`
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
func NewToken(name string, role Role, orgs Scope, createdBy string, now time.Time) (Token, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return Token{}, "", objections.Invalid("name", name, "is empty")
	case utf8.RuneCountInString(name) > 128:
		return Token{}, "", objections.Invalid("name", name, "is longer than 128 characters")
	case !role.Valid():
		return Token{}, "", objections.Invalid("role", string(role), "must be one of dialer, integrator, supervisor, admin")
	}
	orgs, err := orgs.Normalize()
	if err != nil {
		return Token{}, "", err
	}
	var secret [tokenSecretBytes]byte
	_, _ = rand.Read(secret[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	s := base64.RawURLEncoding.EncodeToString(secret[:])
	now = objections.StoredTime(now)
	t := Token{ID: objections.NewID(now), Name: name, Role: role, Orgs: orgs, Hash: HashTokenSecret(s), CreatedAt: now, CreatedBy: createdBy}
	return t, TokenPrefix + t.ID + "_" + s, nil
}

// CheckStorable validates what a store's schema relies on in a token made
// by NewToken, and brings its times to what the stores keep (UTC,
// microseconds). EINVALID names the field.
func (t *Token) CheckStorable() error {
	switch {
	case t.ID == "":
		return objections.Invalid("id", t.ID, "is empty")
	case t.Name == "":
		return objections.Invalid("name", t.Name, "is empty")
	case !t.Role.Valid():
		return objections.Invalid("role", string(t.Role), "must be one of dialer, integrator, supervisor, admin")
	case len(t.Hash) != 64:
		return objections.Invalid("hash", "", "must be a hex SHA-256")
	case t.CreatedAt.IsZero():
		return objections.Invalid("created_at", "", "is required")
	}
	orgs, err := t.Orgs.Normalize()
	if err != nil {
		return err
	}
	t.Orgs = orgs
	t.CreatedAt = objections.StoredTime(t.CreatedAt)
	if t.RevokedAt != nil {
		r := objections.StoredTime(*t.RevokedAt)
		t.RevokedAt = &r
	}
	return nil
}

// TokenNameTaken is the ECONFLICT of storing a token under name, the name
// of an active token.
func TokenNameTaken(name string) error {
	return &objections.Error{Code: objections.ECONFLICT, Field: "name", Value: name,
		Message: "is the name of an active token: revoke it or choose another name"}
}

// TokenRevokedAlready is the ECONFLICT of revoking t, which was revoked
// already.
func TokenRevokedAlready(t Token) error {
	return &objections.Error{Code: objections.ECONFLICT, Field: "token", Value: t.ID,
		Message: "was revoked already at " + t.RevokedAt.Format(time.RFC3339)}
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
		return "", "", objections.Invalid("token", "", "is not a verzet API token (vzt_…)")
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
