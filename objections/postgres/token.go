package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections/access"
)

const tokenColumns = `id, name, role, hash, created_at, created_by, revoked_at, orgs`

// scanToken is the pgx.RowToFunc for tokenColumns.
func scanToken(row pgx.CollectableRow) (access.Token, error) {
	var (
		t          access.Token
		role, orgs string
	)
	err := row.Scan(&t.ID, &t.Name, &role, &t.Hash, &t.CreatedAt, &t.CreatedBy, &t.RevokedAt, &orgs)
	t.Role, t.Orgs = access.Role(role), access.ParseScope(orgs)
	return t, err
}

// CreateToken stores a token made by access.NewToken (see
// access.TokenStore).
func (s *Store) CreateToken(ctx context.Context, t access.Token) (access.Token, error) {
	if err := t.CheckStorable(); err != nil {
		return access.Token{}, err
	}
	stored, err := queryOne(ctx, s.pool, "store token", "token", t.ID, scanToken, `INSERT INTO api_tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+tokenColumns,
		t.ID, t.Name, string(t.Role), t.Hash, t.CreatedAt, t.CreatedBy, t.RevokedAt, t.Orgs.Stored())
	return stored, conflictAs(err, access.TokenNameTaken(t.Name))
}

// Token returns one token, revoked or not; ENOTFOUND.
func (s *Store) Token(ctx context.Context, id string) (access.Token, error) {
	return queryOne(ctx, s.pool, "read token", "token", id, scanToken, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id)
}

// Tokens lists every token, revoked ones included, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]access.Token, error) {
	return queryAll(ctx, s.pool, "list tokens", scanToken, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
}

// RevokeToken ends a token at time at. ENOTFOUND for an unknown id,
// ECONFLICT when it was revoked already.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (access.Token, error) {
	var out access.Token
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1 FOR UPDATE`, id)
		t, err := pgx.CollectExactlyOneRow(rows, scanToken)
		if err != nil {
			return notFound(err, "token", id)
		}
		if t.RevokedAt != nil {
			return access.TokenRevokedAlready(t)
		}
		rows, _ = tx.Query(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 RETURNING `+tokenColumns, id, utc(at))
		out, err = pgx.CollectExactlyOneRow(rows, scanToken)
		return err
	})
	if err != nil {
		return access.Token{}, translate("revoke token", err)
	}
	return out, nil
}
