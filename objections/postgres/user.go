package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections/access"
)

// The users of the supervisors' UI (access.UserStore).

const userColumns = `id, name, role, password_hash, must_change_password, bootstrap, created_at,
	created_by, failed_sign_ins, locked_until, last_sign_in_at, orgs, disabled_at`

// scanUser is the pgx.RowToFunc for userColumns.
func scanUser(row pgx.CollectableRow) (access.User, error) {
	var (
		u                      access.User
		role, orgs             string
		locked, last, disabled *time.Time
	)
	err := row.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &u.MustChangePassword, &u.Bootstrap, &u.CreatedAt,
		&u.CreatedBy, &u.FailedSignIns, &locked, &last, &orgs, &disabled)
	u.Role, u.Orgs = access.Role(role), access.ParseScope(orgs)
	if locked != nil {
		u.LockedUntil = *locked
	}
	if last != nil {
		u.LastSignInAt = *last
	}
	if disabled != nil {
		u.DisabledAt = *disabled
	}
	return u, err
}

// optTime maps the zero time to SQL NULL.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateUser stores a user made by access.NewUser (see access.UserStore).
func (s *Store) CreateUser(ctx context.Context, u access.User) (access.User, error) {
	if err := u.CheckStorable(); err != nil {
		return access.User{}, err
	}
	stored, err := queryOne(ctx, s.pool, "create user", "user", u.ID, scanUser, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING `+userColumns,
		u.ID, u.Name, string(u.Role), u.PasswordHash, u.MustChangePassword, u.Bootstrap, u.CreatedAt,
		u.CreatedBy, u.FailedSignIns, optTime(u.LockedUntil), optTime(u.LastSignInAt), u.Orgs.Stored(), optTime(u.DisabledAt))
	return stored, conflictAs(err, access.UserNameTaken(u.Name))
}

// User returns one user by id; ENOTFOUND.
func (s *Store) User(ctx context.Context, id string) (access.User, error) {
	return queryOne(ctx, s.pool, "read user", "user", id, scanUser, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

// UserByName returns one user by (lower-case) name; ENOTFOUND.
func (s *Store) UserByName(ctx context.Context, name string) (access.User, error) {
	return queryOne(ctx, s.pool, "read user", "name", name, scanUser, `SELECT `+userColumns+` FROM users WHERE name = $1`, name)
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]access.User, error) {
	return queryAll(ctx, s.pool, "list users", scanUser, `SELECT `+userColumns+` FROM users ORDER BY name`)
}

// SetPassword replaces a user's password hash (see access.UserStore).
func (s *Store) SetPassword(ctx context.Context, id, hash string, mustChange bool) (access.User, error) {
	if err := access.CheckPasswordHash(hash); err != nil {
		return access.User{}, err
	}
	return queryOne(ctx, s.pool, "set password", "user", id, scanUser, `UPDATE users
		SET password_hash = $2, must_change_password = $3, failed_sign_ins = 0, locked_until = NULL
		WHERE id = $1 RETURNING `+userColumns, id, hash, mustChange)
}

// SignInFailed counts a failed sign-in (see access.UserStore). The row
// lock makes concurrent failures count one by one.
func (s *Store) SignInFailed(ctx context.Context, id string, at time.Time) (access.User, error) {
	var out access.User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT failed_sign_ins FROM users WHERE id = $1 FOR UPDATE`, id).Scan(&n); err != nil {
			return notFound(err, "user", id)
		}
		n++
		rows, _ := tx.Query(ctx, `UPDATE users SET failed_sign_ins = $2, locked_until = $3 WHERE id = $1 RETURNING `+userColumns,
			id, n, optTime(access.LockUntil(n, at)))
		var err error
		out, err = pgx.CollectExactlyOneRow(rows, scanUser)
		return err
	})
	if err != nil {
		return access.User{}, translate("count failed sign-in", err)
	}
	return out, nil
}

// SignedIn records a good sign-in at time at; ENOTFOUND.
func (s *Store) SignedIn(ctx context.Context, id string, at time.Time) (access.User, error) {
	return queryOne(ctx, s.pool, "record sign-in", "user", id, scanUser, `UPDATE users
		SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = $2
		WHERE id = $1 RETURNING `+userColumns, id, utc(at))
}

// SetUserAccess replaces a user's role and org scope (see
// access.UserStore).
func (s *Store) SetUserAccess(ctx context.Context, id string, role access.Role, orgs access.Scope) (access.User, error) {
	orgs, err := access.CheckUserAccess(role, orgs)
	if err != nil {
		return access.User{}, err
	}
	return queryOne(ctx, s.pool, "set user access", "user", id, scanUser, `UPDATE users SET role = $2, orgs = $3
		WHERE id = $1 RETURNING `+userColumns, id, string(role), orgs.Stored())
}

// SetUserDisabled disables a user from at, or enables it for the zero
// time (see access.UserStore).
func (s *Store) SetUserDisabled(ctx context.Context, id string, at time.Time) (access.User, error) {
	if at.IsZero() {
		return queryOne(ctx, s.pool, "enable user", "user", id, scanUser, `UPDATE users
			SET disabled_at = NULL, failed_sign_ins = 0, locked_until = NULL WHERE id = $1 RETURNING `+userColumns, id)
	}
	return queryOne(ctx, s.pool, "disable user", "user", id, scanUser, `UPDATE users SET disabled_at = $2
		WHERE id = $1 RETURNING `+userColumns, id, utc(at))
}
