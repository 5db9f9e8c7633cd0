package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// LoadCall returns the state of one call. ENOTFOUND when there is none,
// EUNAVAILABLE when the database cannot be reached.
func (s *Store) LoadCall(ctx context.Context, provider, ref string) (objections.CallState, error) {
	return queryOne(ctx, s.pool, "load call state", "call", ref, scanCallState,
		`SELECT `+callStateColumns+` FROM call_states WHERE provider = $1 AND ref = $2`, provider, ref)
}

const callStateColumns = `provider, ref, version, data, updated_at`

// scanCallState is the pgx.RowToFunc for callStateColumns.
func scanCallState(row pgx.CollectableRow) (objections.CallState, error) {
	var st objections.CallState
	err := row.Scan(&st.Provider, &st.Ref, &st.Version, &st.Data, &st.UpdatedAt)
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
	if st.Version == 1 {
		tag, err := s.pool.Exec(ctx, `INSERT INTO call_states (provider, ref, version, data, updated_at)
			VALUES ($1, $2, 1, $3, $4) ON CONFLICT (provider, ref) DO NOTHING`,
			st.Provider, st.Ref, st.Data, st.UpdatedAt)
		if err != nil {
			return translate("create call state", err)
		}
		if tag.RowsAffected() == 0 {
			return objections.CallStateExists(st)
		}
		return nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE call_states SET version = $3, data = $4, updated_at = $5
		WHERE provider = $1 AND ref = $2 AND version = $3 - 1`,
		st.Provider, st.Ref, st.Version, st.Data, st.UpdatedAt)
	if err != nil {
		return translate("save call state", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var stored int64
	err = s.pool.QueryRow(ctx, `SELECT version FROM call_states WHERE provider = $1 AND ref = $2`, st.Provider, st.Ref).Scan(&stored)
	if err != nil {
		return translate("save call state", notFound(err, "call", st.Ref))
	}
	return objections.CallStateMoved(st, stored)
}

// PurgeCalls deletes the provider's call states last updated before
// before, and returns how many it deleted. EUNAVAILABLE when the database
// cannot be reached.
func (s *Store) PurgeCalls(ctx context.Context, provider string, before time.Time) (int64, error) {
	return s.execCount(ctx, "purge call states", `DELETE FROM call_states WHERE provider = $1 AND updated_at < $2`, provider, utc(before))
}
