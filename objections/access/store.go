package access

import (
	"context"
	"time"
)

// UserStore keeps the people who sign in to the supervisors' UI.
type UserStore interface {
	// CreateUser stores a user made by NewUser. ECONFLICT when the name
	// is taken (UserNameTaken); EINVALID for a user CheckStorable refuses.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns one user by id; ENOTFOUND.
	User(ctx context.Context, id string) (User, error)
	// UserByName returns one user by (lower-case) name; ENOTFOUND.
	UserByName(ctx context.Context, name string) (User, error)
	// Users lists every user by name.
	Users(ctx context.Context) ([]User, error)
	// SetPassword replaces a user's password hash, sets whether the next
	// sign-in must change it, and lifts any lock. ENOTFOUND, EINVALID for
	// an empty hash.
	SetPassword(ctx context.Context, id, hash string, mustChange bool) (User, error)
	// SignInFailed counts a failed sign-in at time at and locks the user
	// as LockUntil says; concurrent failures count one by one. It returns
	// the user as updated; ENOTFOUND.
	SignInFailed(ctx context.Context, id string, at time.Time) (User, error)
	// SignedIn records a good sign-in at time at: the failure count and
	// any lock are cleared. ENOTFOUND.
	SignedIn(ctx context.Context, id string, at time.Time) (User, error)
	// SetUserAccess replaces a user's role and org scope. ENOTFOUND;
	// EINVALID for a role or scope CheckUserAccess refuses.
	SetUserAccess(ctx context.Context, id string, role Role, orgs Scope) (User, error)
	// SetUserDisabled disables a user from time at, or enables it again
	// when at is the zero time; enabling also clears the failure count
	// and any lock. It does not end the user's sessions (see
	// SessionStore.DeleteUserSessions). ENOTFOUND.
	SetUserDisabled(ctx context.Context, id string, at time.Time) (User, error)
}

// SessionStore keeps the sessions of signed-in browsers.
type SessionStore interface {
	// CreateSession stores a session made by NewSession. EINVALID without
	// id or user (or for an unknown user); ECONFLICT for an id in use.
	CreateSession(ctx context.Context, s Session) error
	// Session returns one session by id, expired or not; ENOTFOUND.
	Session(ctx context.Context, id string) (Session, error)
	// TouchSession sets the session's last-seen time.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession ends one session; ending one that is gone is no error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of a user (after a password
	// change) and returns how many there were.
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
	// PruneSessions deletes the sessions that expired before before.
	PruneSessions(ctx context.Context, before time.Time) (int64, error)
}

// AuditStore keeps the append-only audit log.
type AuditStore interface {
	// AppendAudit adds an entry made by NewAuditEntry. EINVALID for an
	// entry CheckStorable refuses.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// AuditLog returns one page of the log, newest first (in the order
	// written); f.Before is the id of the last entry of the previous page.
	AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// TokenStore keeps the API tokens.
type TokenStore interface {
	// Token returns one token, revoked or not; ENOTFOUND.
	Token(ctx context.Context, id string) (Token, error)
	// CreateToken stores a token made by NewToken; ECONFLICT for the name
	// of an active token (TokenNameTaken), EINVALID for a token
	// CheckStorable refuses.
	CreateToken(ctx context.Context, t Token) (Token, error)
	// Tokens lists every token, revoked ones included, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken ends a token at time at; ENOTFOUND, ECONFLICT when it
	// was revoked already (TokenRevokedAlready).
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)
}

// Store is all the storage of access. objections/postgres and
// objections/sqlite implement it; objections/storetest checks them alike.
type Store interface {
	UserStore
	SessionStore
	AuditStore
	TokenStore
}
