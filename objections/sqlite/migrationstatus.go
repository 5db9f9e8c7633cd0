package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// Migration is one schema migration: built into this binary, recorded in
// the database's schema_version, or both.
type Migration struct {
	Version   int
	Name      string // without number and .sql: "init"
	Applied   bool
	AppliedAt time.Time // when Applied
	// Known is false for a migration the database records and this binary
	// does not have: a newer verzet applied it.
	Known bool
}

// Migrations lists this binary's migrations and those the database
// recorded, by version, without changing anything: a database without a
// schema has every migration not applied.
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return nil, objections.Internal("load migrations", err)
	}
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = Migration{Version: m.version, Name: migrationName(m.name), Known: true}
	}
	var tables int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables); err != nil {
		return nil, translate("read migrations", err)
	}
	if tables == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_version ORDER BY version`)
	if err != nil {
		return nil, translate("read migrations", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v        int
			name, at string
		)
		if err := rows.Scan(&v, &name, &at); err != nil {
			return nil, translate("read migrations", err)
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, objections.Internal("read migrations", err)
		}
		if v >= 1 && v <= len(out) {
			out[v-1].Applied, out[v-1].AppliedAt = true, t
			continue
		}
		out = append(out, Migration{Version: v, Name: migrationName(name), Applied: true, AppliedAt: t})
	}
	if err := rows.Err(); err != nil {
		return nil, translate("read migrations", err)
	}
	return out, nil
}

// migrationName is a migration's name as PostgreSQL's schema_version
// keeps it: "001_init.sql" is "init".
func migrationName(file string) string {
	name := strings.TrimSuffix(file, ".sql")
	if _, rest, ok := strings.Cut(name, "_"); ok {
		return rest
	}
	return name
}
