package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/verzet/verzet/objections"
)

// LoadCall returns the state of one call. ENOTFOUND when there is none,
// EUNAVAILABLE when the database cannot be read.
func (s *Store) LoadCall(ctx context.Context, provider, ref string) (objections.CallState, error) {
	return queryOne(ctx, s.q(), "load call state", "call", ref, scanCallState,
		`SELECT `+callStateColumns+` FROM call_states WHERE provider = ? AND ref = ?`, provider, ref)
}

const callStateColumns = `provider, ref, version, data, updated_at`

func scanCallState(r rowScanner) (objections.CallState, error) {
	var st objections.CallState
	err := r.Scan(&st.Provider, &st.Ref, &st.Version, &st.Data, at(&st.UpdatedAt))
	return st, err
}

// SaveCall stores st: Version 1 creates the call's state, Version n
// replaces version n-1. ECONFLICT when another writer created or replaced
// it first (load again and redo the step), ENOTFOUND when Version > 1 and
// the state is gone (purged), EINVALID for a bad st. A zero UpdatedAt is
// the current time.
func (s *Store) SaveCall(ctx context.Context, st objections.CallState) error {
	if err := st.CheckStorable(); err != nil {
		return err
	}
	return s.write(ctx, "save call state", func(tx dbtx) error {
		if st.Version == 1 {
			res, err := tx.ExecContext(ctx, `INSERT INTO call_states (provider, ref, version, data, updated_at)
				VALUES (?, ?, 1, ?, ?) ON CONFLICT (provider, ref) DO NOTHING`,
				st.Provider, st.Ref, st.Data, formatTime(st.UpdatedAt))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return objections.CallStateExists(st)
			}
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE call_states SET version = ?, data = ?, updated_at = ?
			WHERE provider = ? AND ref = ? AND version = ?`,
			st.Version, st.Data, formatTime(st.UpdatedAt), st.Provider, st.Ref, st.Version-1)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return nil
		}
		var stored int64
		err = tx.QueryRowContext(ctx, `SELECT version FROM call_states WHERE provider = ? AND ref = ?`, st.Provider, st.Ref).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return objections.NotFound("call", st.Ref)
		}
		if err != nil {
			return err
		}
		return objections.CallStateMoved(st, stored)
	})
}

// PurgeCalls deletes the provider's call states last updated before
// before, and returns how many it deleted. EUNAVAILABLE when the database
// cannot be written.
func (s *Store) PurgeCalls(ctx context.Context, provider string, before time.Time) (int64, error) {
	return s.execCount(ctx, "purge call states", `DELETE FROM call_states WHERE provider = ? AND updated_at < ?`, provider, formatTime(before))
}
