package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections/access"
)

const tokenColumns = `id, name, role, hash, created_at, created_by, revoked_at, orgs`

func scanToken(r rowScanner) (access.Token, error) {
	var (
		t          access.Token
		role, orgs string
	)
	err := r.Scan(&t.ID, &t.Name, &role, &t.Hash, at(&t.CreatedAt), &t.CreatedBy, nullAt(&t.RevokedAt), &orgs)
	t.Role, t.Orgs = access.Role(role), access.ParseScope(orgs)
	return t, err
}

// CreateToken stores a token made by access.NewToken (see
// access.TokenStore).
func (s *Store) CreateToken(ctx context.Context, t access.Token) (access.Token, error) {
	if err := t.CheckStorable(); err != nil {
		return access.Token{}, err
	}
	return writeOne(ctx, s, "store token", func(tx dbtx) (access.Token, error) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL`, t.Name).Scan(&one)
		switch {
		case err == nil:
			return access.Token{}, access.TokenNameTaken(t.Name)
		case !errors.Is(err, sql.ErrNoRows):
			return access.Token{}, fmt.Errorf("look up token name: %w", err)
		}
		return scanToken(tx.QueryRowContext(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING `+tokenColumns, t.ID, t.Name, string(t.Role), t.Hash, formatTime(t.CreatedAt), t.CreatedBy, formatNullTime(t.RevokedAt),
			t.Orgs.Stored()))
	})
}

// Token returns one token, revoked or not; ENOTFOUND.
func (s *Store) Token(ctx context.Context, id string) (access.Token, error) {
	return queryOne(ctx, s.q(), "read token", "token", id, scanToken, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id)
}

// Tokens lists every token, revoked ones included, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]access.Token, error) {
	return queryAll(ctx, s.q(), "list tokens", scanToken, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
}

// RevokeToken ends a token at time at. ENOTFOUND for an unknown id,
// ECONFLICT when it was revoked already.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (access.Token, error) {
	return writeOne(ctx, s, "revoke token", func(tx dbtx) (access.Token, error) {
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
		if err != nil {
			return access.Token{}, notFound(err, "token", id)
		}
		if t.RevokedAt != nil {
			return access.Token{}, access.TokenRevokedAlready(t)
		}
		return scanToken(tx.QueryRowContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? RETURNING `+tokenColumns,
			formatTime(at), id))
	})
}
