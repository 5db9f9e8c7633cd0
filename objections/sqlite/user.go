package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections/access"
)

// The users of the supervisors' UI (access.UserStore).

const userColumns = `id, name, role, password_hash, must_change_password, bootstrap, created_at,
	created_by, failed_sign_ins, locked_until, last_sign_in_at, orgs, disabled_at`

func scanUser(r rowScanner) (access.User, error) {
	var (
		u          access.User
		role, orgs string
	)
	err := r.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &u.MustChangePassword, &u.Bootstrap, at(&u.CreatedAt),
		&u.CreatedBy, &u.FailedSignIns, optAt(&u.LockedUntil), optAt(&u.LastSignInAt), &orgs, optAt(&u.DisabledAt))
	u.Role, u.Orgs = access.Role(role), access.ParseScope(orgs)
	return u, err
}

// CreateUser stores a user made by access.NewUser (see access.UserStore).
func (s *Store) CreateUser(ctx context.Context, u access.User) (access.User, error) {
	if err := u.CheckStorable(); err != nil {
		return access.User{}, err
	}
	return writeOne(ctx, s, "create user", func(tx dbtx) (access.User, error) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, u.Name).Scan(&one)
		switch {
		case err == nil:
			return access.User{}, access.UserNameTaken(u.Name)
		case !errors.Is(err, sql.ErrNoRows):
			return access.User{}, fmt.Errorf("look up user name: %w", err)
		}
		return scanUser(tx.QueryRowContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING `+userColumns,
			u.ID, u.Name, string(u.Role), u.PasswordHash, boolInt(u.MustChangePassword), boolInt(u.Bootstrap),
			formatTime(u.CreatedAt), u.CreatedBy, u.FailedSignIns, formatOptTime(u.LockedUntil),
			formatOptTime(u.LastSignInAt), u.Orgs.Stored(), formatOptTime(u.DisabledAt)))
	})
}

// User returns one user by id; ENOTFOUND.
func (s *Store) User(ctx context.Context, id string) (access.User, error) {
	return queryOne(ctx, s.q(), "read user", "user", id, scanUser, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
}

// UserByName returns one user by (lower-case) name; ENOTFOUND.
func (s *Store) UserByName(ctx context.Context, name string) (access.User, error) {
	return queryOne(ctx, s.q(), "read user", "name", name, scanUser, `SELECT `+userColumns+` FROM users WHERE name = ?`, name)
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]access.User, error) {
	return queryAll(ctx, s.q(), "list users", scanUser, `SELECT `+userColumns+` FROM users ORDER BY name`)
}

// updateUser runs one UPDATE of the user with id and returns the user as
// it is afterwards; ENOTFOUND when there is none.
func (s *Store) updateUser(ctx context.Context, doing, id string, fn func(u access.User) (string, []any)) (access.User, error) {
	return writeOne(ctx, s, doing, func(tx dbtx) (access.User, error) {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if err != nil {
			return access.User{}, notFound(err, "user", id)
		}
		set, args := fn(u)
		return scanUser(tx.QueryRowContext(ctx, `UPDATE users SET `+set+` WHERE id = ? RETURNING `+userColumns, append(args, id)...))
	})
}

// SetPassword replaces a user's password hash (see access.UserStore).
func (s *Store) SetPassword(ctx context.Context, id, hash string, mustChange bool) (access.User, error) {
	if err := access.CheckPasswordHash(hash); err != nil {
		return access.User{}, err
	}
	return s.updateUser(ctx, "set password", id, func(access.User) (string, []any) {
		return `password_hash = ?, must_change_password = ?, failed_sign_ins = 0, locked_until = ''`,
			[]any{hash, boolInt(mustChange)}
	})
}

// SignInFailed counts a failed sign-in (see access.UserStore). The write
// transaction makes concurrent failures count one by one.
func (s *Store) SignInFailed(ctx context.Context, id string, at time.Time) (access.User, error) {
	return s.updateUser(ctx, "count failed sign-in", id, func(u access.User) (string, []any) {
		n := u.FailedSignIns + 1
		return `failed_sign_ins = ?, locked_until = ?`, []any{n, formatOptTime(access.LockUntil(n, at))}
	})
}

// SignedIn records a good sign-in at time at; ENOTFOUND.
func (s *Store) SignedIn(ctx context.Context, id string, at time.Time) (access.User, error) {
	return s.updateUser(ctx, "record sign-in", id, func(access.User) (string, []any) {
		return `failed_sign_ins = 0, locked_until = '', last_sign_in_at = ?`, []any{formatTime(at)}
	})
}

// SetUserAccess replaces a user's role and org scope (see
// access.UserStore).
func (s *Store) SetUserAccess(ctx context.Context, id string, role access.Role, orgs access.Scope) (access.User, error) {
	orgs, err := access.CheckUserAccess(role, orgs)
	if err != nil {
		return access.User{}, err
	}
	return s.updateUser(ctx, "set user access", id, func(access.User) (string, []any) {
		return `role = ?, orgs = ?`, []any{string(role), orgs.Stored()}
	})
}

// SetUserDisabled disables a user from at, or enables it for the zero
// time (see access.UserStore).
func (s *Store) SetUserDisabled(ctx context.Context, id string, at time.Time) (access.User, error) {
	return s.updateUser(ctx, "set user disabled", id, func(access.User) (string, []any) {
		if at.IsZero() {
			return `disabled_at = '', failed_sign_ins = 0, locked_until = ''`, nil
		}
		return `disabled_at = ?`, []any{formatTime(at)}
	})
}
