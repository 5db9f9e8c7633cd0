package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const tokenCols = `id, name, role, hash, created_at, created_by, revoked_at`

// scanToken is the pgx.RowToFunc for tokenCols.
func scanToken(row pgx.CollectableRow) (objections.Token, error) {
	var (
		t    objections.Token
		role string
	)
	err := row.Scan(&t.ID, &t.Name, &role, &t.Hash, &t.CreatedAt, &t.CreatedBy, &t.RevokedAt)
	t.Role = objections.Role(role)
	return t, err
}

// CreateToken stores a token made by objections.NewToken. ECONFLICT when an
// active token has the same name; EINVALID for a token without id, name,
// valid role or hash.
func (s *Store) CreateToken(ctx context.Context, t objections.Token) (objections.Token, error) {
	if err := checkToken(&t); err != nil {
		return objections.Token{}, err
	}
	rows, _ := s.pool.Query(ctx, `INSERT INTO api_tokens (`+tokenCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+tokenCols,
		t.ID, t.Name, string(t.Role), t.Hash, t.CreatedAt, t.CreatedBy, t.RevokedAt)
	stored, err := pgx.CollectExactlyOneRow(rows, scanToken)
	if err != nil {
		err = translate("store token", err)
		if objections.ErrorCode(err) == objections.ECONFLICT {
			return objections.Token{}, &objections.Error{Code: objections.ECONFLICT, Field: "name", Value: t.Name,
				Message: "is the name of an active token: revoke it or choose another name"}
		}
		return objections.Token{}, err
	}
	return stored, nil
}

// checkToken validates what the schema relies on and normalises times.
func checkToken(t *objections.Token) error {
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
	t.CreatedAt = utc(t.CreatedAt)
	if t.RevokedAt != nil {
		r := utc(*t.RevokedAt)
		t.RevokedAt = &r
	}
	return nil
}

// Token returns one token, revoked or not; ENOTFOUND.
func (s *Store) Token(ctx context.Context, id string) (objections.Token, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = $1`, id)
	t, err := pgx.CollectExactlyOneRow(rows, scanToken)
	if errors.Is(err, pgx.ErrNoRows) {
		return objections.Token{}, objections.NotFound("token", id)
	}
	if err != nil {
		return objections.Token{}, translate("read token", err)
	}
	return t, nil
}

// Tokens lists every token, revoked ones included, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]objections.Token, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY id`)
	list, err := pgx.CollectRows(rows, scanToken)
	if err != nil {
		return nil, translate("list tokens", err)
	}
	return list, nil
}

// RevokeToken ends a token at time at. ENOTFOUND for an unknown id,
// ECONFLICT when it was revoked already.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (objections.Token, error) {
	var out objections.Token
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = $1 FOR UPDATE`, id)
		t, err := pgx.CollectExactlyOneRow(rows, scanToken)
		if errors.Is(err, pgx.ErrNoRows) {
			return objections.NotFound("token", id)
		}
		if err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return &objections.Error{Code: objections.ECONFLICT, Field: "token", Value: id,
				Message: "was revoked already at " + t.RevokedAt.Format(time.RFC3339)}
		}
		rows, _ = tx.Query(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 RETURNING `+tokenCols, id, utc(at))
		out, err = pgx.CollectExactlyOneRow(rows, scanToken)
		return err
	})
	if err != nil {
		return objections.Token{}, translate("revoke token", err)
	}
	return out, nil
}
