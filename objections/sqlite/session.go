package sqlite

import (
	"context"
	"time"

	"github.com/verzet/verzet/objections/access"
)

// The sessions of signed-in browsers (access.SessionStore).

const sessionColumns = `id, user_id, created_at, seen_at, expires_at`

func scanSession(r rowScanner) (access.Session, error) {
	var ss access.Session
	err := r.Scan(&ss.ID, &ss.UserID, at(&ss.CreatedAt), at(&ss.SeenAt), at(&ss.ExpiresAt))
	return ss, err
}

// CreateSession stores a session made by access.NewSession (see
// access.SessionStore); an unknown user is ECONFLICT (its foreign key).
func (s *Store) CreateSession(ctx context.Context, ss access.Session) error {
	if err := ss.CheckStorable(); err != nil {
		return err
	}
	return s.exec(ctx, "create session", `INSERT INTO ui_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?)`,
		ss.ID, ss.UserID, formatTime(ss.CreatedAt), formatTime(ss.SeenAt), formatTime(ss.ExpiresAt))
}

// Session returns one session by id, expired or not; ENOTFOUND.
func (s *Store) Session(ctx context.Context, id string) (access.Session, error) {
	return queryOne(ctx, s.q(), "read session", "session", "", scanSession, `SELECT `+sessionColumns+` FROM ui_sessions WHERE id = ?`, id)
}

// TouchSession sets the session's last-seen time.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	return s.exec(ctx, "touch session", `UPDATE ui_sessions SET seen_at = ? WHERE id = ?`, formatTime(at), id)
}

// DeleteSession ends one session; ending one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.exec(ctx, "delete session", `DELETE FROM ui_sessions WHERE id = ?`, id)
}

// DeleteUserSessions ends every session of a user and returns how many
// there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	return s.execCount(ctx, "delete sessions", `DELETE FROM ui_sessions WHERE user_id = ?`, userID)
}

// PruneSessions deletes the sessions that expired before before.
func (s *Store) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	return s.execCount(ctx, "prune sessions", `DELETE FROM ui_sessions WHERE expires_at < ?`, formatTime(before))
}
