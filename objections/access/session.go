package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/verzet/verzet/objections"
)

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
	now = objections.StoredTime(now)
	return Session{ID: HashSessionSecret(secret), UserID: userID, CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(ttl)}, secret
}

// HashSessionSecret returns the stored ID of the session whose cookie
// holds secret.
func HashSessionSecret(secret string) string {
	h := sha256.Sum256([]byte("verzet-session\x00" + secret))
	return hex.EncodeToString(h[:])
}

// CheckStorable validates what a store needs of a session made by
// NewSession, and brings its times to what the stores keep (UTC,
// microseconds). EINVALID without id or user.
func (s *Session) CheckStorable() error {
	if s.ID == "" || s.UserID == "" {
		return objections.Invalid("session", "", "needs an id and a user")
	}
	s.CreatedAt, s.SeenAt, s.ExpiresAt = objections.StoredTime(s.CreatedAt), objections.StoredTime(s.SeenAt), objections.StoredTime(s.ExpiresAt)
	return nil
}
