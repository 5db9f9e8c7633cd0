package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections"
)

const tokenColumns = `id, name, role, hash, created_at, created_by, revoked_at`

func scanToken(r rowScanner) (objections.Token, error) {
	var (
		t               objections.Token
		role, createdAt string
		revokedAt       sql.NullString
	)
	if err := r.Scan(&t.ID, &t.Name, &role, &t.Hash, &createdAt, &t.CreatedBy, &revokedAt); err != nil {
		return objections.Token{}, err
	}
	t.Role = objections.Role(role)
	var err error
	if t.CreatedAt, err = parseTime(createdAt); err != nil {
		return objections.Token{}, err
	}
	if revokedAt.Valid {
		at, err := parseTime(revokedAt.String)
		if err != nil {
			return objections.Token{}, err
		}
		t.RevokedAt = &at
	}
	return t, nil
}

// CreateToken stores a token made by objections.NewToken. ECONFLICT when an
// active token has the same name; EINVALID for a token without id, name,
// valid role or hash.
func (s *Store) CreateToken(ctx context.Context, t objections.Token) (objections.Token, error) {
	switch {
	case t.ID == "":
		return objections.Token{}, objections.Invalid("id", t.ID, "is empty")
	case t.Name == "":
		return objections.Token{}, objections.Invalid("name", t.Name, "is empty")
	case !t.Role.Valid():
		return objections.Token{}, objections.Invalid("role", string(t.Role), "must be one of dialer, integrator, supervisor, admin")
	case len(t.Hash) != 64:
		return objections.Token{}, objections.Invalid("hash", "", "must be a hex SHA-256")
	case t.CreatedAt.IsZero():
		return objections.Token{}, objections.Invalid("created_at", "", "is required")
	}
	var revoked any
	if t.RevokedAt != nil {
		revoked = formatTime(*t.RevokedAt)
	}
	var out objections.Token
	err := s.write(ctx, "store token", func(tx dbtx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL`, t.Name).Scan(&one)
		switch {
		case err == nil:
			return &objections.Error{Code: objections.ECONFLICT, Field: "name", Value: t.Name,
				Message: "is the name of an active token: revoke it or choose another name"}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look up token name: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, string(t.Role), t.Hash, formatTime(t.CreatedAt), t.CreatedBy, revoked); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		out, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, t.ID))
		return err
	})
	if err != nil {
		return objections.Token{}, err
	}
	return out, nil
}

// Token returns one token, revoked or not; ENOTFOUND.
func (s *Store) Token(ctx context.Context, id string) (objections.Token, error) {
	t, err := scanToken(s.q().QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if err != nil {
		return objections.Token{}, storeError("read token", notFound(err, "token", id))
	}
	return t, nil
}

// Tokens lists every token, revoked ones included, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]objections.Token, error) {
	rows, err := s.q().QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, storeError("list tokens", err)
	}
	list, err := collect(rows, scanToken)
	if err != nil {
		return nil, storeError("list tokens", err)
	}
	return list, nil
}

// RevokeToken ends a token at time at. ENOTFOUND for an unknown id,
// ECONFLICT when it was revoked already.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (objections.Token, error) {
	var out objections.Token
	err := s.write(ctx, "revoke token", func(tx dbtx) error {
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "token", id)
		}
		if t.RevokedAt != nil {
			return &objections.Error{Code: objections.ECONFLICT, Field: "token", Value: id,
				Message: "was revoked already at " + t.RevokedAt.Format(time.RFC3339)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, formatTime(at), id); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		revoked := micro(at)
		t.RevokedAt = &revoked
		out = t
		return nil
	})
	if err != nil {
		return objections.Token{}, err
	}
	return out, nil
}
