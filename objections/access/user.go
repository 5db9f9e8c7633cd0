package access

import (
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// User is a person who signs in to the supervisors' UI. Only the roles
// RoleSupervisor and RoleAdmin sign in there. Users are kept apart from API
// tokens: a token is a machine's credential, a user is a person with a
// password; both have the same roles.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"` // the user name typed at sign-in: lower case
	Role Role   `json:"role"`
	// Orgs are the orgs the user reaches (see Scope); empty: every org.
	Orgs Scope `json:"orgs,omitempty"`
	// PasswordHash is the encoded password hash (bcrypt); this package
	// does not read it. Never shown, never logged.
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
	// DisabledAt, when set, is when an administrator disabled the user:
	// a disabled user cannot sign in and has no sessions. Zero: enabled.
	DisabledAt time.Time `json:"disabled_at"`
}

// Locked reports whether u may not sign in at time at.
func (u User) Locked(at time.Time) bool { return u.LockedUntil.After(at) }

// Disabled reports whether an administrator disabled u.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// ValidUserRole reports whether r is a role a person may have in the UI.
func ValidUserRole(r Role) bool { return r == RoleSupervisor || r == RoleAdmin }

// ValidateUserName checks a user name: 1–64 characters of [a-z0-9._@-],
// starting with a letter or digit. It returns EINVALID naming field "name".
func ValidateUserName(name string) error {
	if name == "" {
		return objections.Invalid("name", name, "is empty")
	}
	if len(name) > 64 {
		return objections.Invalid("name", name[:32]+"…", "is longer than 64 characters")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !ok && (i == 0 || !strings.ContainsRune("._@-", r)) {
			return objections.Invalid("name", name, "may hold only lower-case letters, digits, '.', '_', '@' and '-', and must start with a letter or digit")
		}
	}
	return nil
}

// NewUser returns a user record named name (case-folded) with role and an
// already computed password hash. EINVALID names the field.
func NewUser(name string, role Role, orgs Scope, passwordHash, createdBy string, now time.Time) (User, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if err := ValidateUserName(name); err != nil {
		return User{}, err
	}
	if !ValidUserRole(role) {
		return User{}, objections.Invalid("role", string(role), "must be supervisor or admin")
	}
	if err := CheckPasswordHash(passwordHash); err != nil {
		return User{}, err
	}
	orgs, err := orgs.Normalize()
	if err != nil {
		return User{}, err
	}
	now = objections.StoredTime(now)
	return User{ID: objections.NewID(now), Name: name, Role: role, Orgs: orgs, PasswordHash: passwordHash, CreatedAt: now, CreatedBy: createdBy}, nil
}

// CheckStorable validates what a store's schema relies on in a user made
// by NewUser, and brings its times to what the stores keep (UTC,
// microseconds). EINVALID names the field.
func (u *User) CheckStorable() error {
	switch {
	case u.ID == "":
		return objections.Invalid("id", u.ID, "is empty")
	case !ValidUserRole(u.Role):
		return objections.Invalid("role", string(u.Role), "must be supervisor or admin")
	case u.PasswordHash == "":
		return CheckPasswordHash(u.PasswordHash)
	case u.CreatedAt.IsZero():
		return objections.Invalid("created_at", "", "is required")
	}
	orgs, err := u.Orgs.Normalize()
	if err != nil {
		return err
	}
	u.Orgs = orgs
	u.CreatedAt = objections.StoredTime(u.CreatedAt)
	u.LockedUntil, u.LastSignInAt = objections.StoredTime(u.LockedUntil), objections.StoredTime(u.LastSignInAt)
	u.DisabledAt = objections.StoredTime(u.DisabledAt)
	return ValidateUserName(u.Name)
}

// CheckUserAccess validates a role and scope to give a user, and returns
// the scope normalised. EINVALID names the field ("role" or "org").
func CheckUserAccess(role Role, orgs Scope) (Scope, error) {
	if !ValidUserRole(role) {
		return nil, objections.Invalid("role", string(role), "must be supervisor or admin")
	}
	return orgs.Normalize()
}

// CheckPasswordHash refuses an empty password hash: EINVALID naming
// "password".
func CheckPasswordHash(hash string) error {
	if hash == "" {
		return objections.Invalid("password", "", "is empty")
	}
	return nil
}

// UserNameTaken is the ECONFLICT of storing a user under name, which
// another user has.
func UserNameTaken(name string) error {
	return &objections.Error{Code: objections.ECONFLICT, Field: "name", Value: name, Message: "is taken"}
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
	return objections.StoredTime(at).Add(d)
}
