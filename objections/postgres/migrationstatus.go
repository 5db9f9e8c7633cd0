package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// Migration is one schema migration: built into this binary, recorded in
// the database's schema_version, or both.
type Migration struct {
	Version   int
	Name      string
	Applied   bool
	AppliedAt time.Time // when Applied
	// Known is false for a migration the database records and this binary
	// does not have: a newer verzet applied it.
	Known bool
}

// Migrations lists this binary's migrations and those the database
// recorded, by version, without changing anything: an empty database has
// every migration not applied. EUNAVAILABLE when the database cannot be
// reached.
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	ms, err := embeddedMigrations()
	if err != nil {
		return nil, objections.Internal("load migrations", err)
	}
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = Migration{Version: m.version, Name: m.name, Known: true}
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, translate("read migrations", err)
	}
	if !exists {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT version, name, applied_at FROM schema_version ORDER BY version`)
	type applied struct {
		Version   int32
		Name      string
		AppliedAt time.Time
	}
	done, err := pgx.CollectRows(rows, pgx.RowToStructByPos[applied])
	if err != nil {
		return nil, translate("read migrations", err)
	}
	for _, a := range done {
		v := int(a.Version)
		if v >= 1 && v <= len(out) {
			out[v-1].Applied, out[v-1].AppliedAt = true, a.AppliedAt.UTC()
			continue
		}
		out = append(out, Migration{Version: v, Name: a.Name, Applied: true, AppliedAt: a.AppliedAt.UTC()})
	}
	return out, nil
}
