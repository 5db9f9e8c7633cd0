package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationSplit ends the "up" part of a migration file (the tern format of
// objections/postgres); what follows it is the "down" part, which Migrate
// does not run.
const migrationSplit = "---- create above / drop below ----"

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, p := range names {
		name := filepath.Base(p)
		digits := name[:strings.IndexFunc(name+"x", func(r rune) bool { return r < '0' || r > '9' })]
		v, err := strconv.Atoi(digits)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name does not start with a number", name)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		up, _, _ := strings.Cut(string(b), migrationSplit)
		ms = append(ms, migration{version: v, name: name, sql: up})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// Migrate brings the schema up to date with the embedded migrations. It runs
// in one IMMEDIATE transaction, so that two processes starting at once apply
// each migration once, and it is a no-op on an up-to-date database.
// EINTERNAL when the database has a newer schema than this build knows.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return objections.Internal("load migrations", err)
	}
	return s.write(ctx, "migrate database", func(q dbtx) error {
		tx := q.tx // not q: migration SQL runs once and is not cached
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL
		) STRICT`); err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return objections.Errorf(objections.EINTERNAL,
				"database schema version %d is newer than this build knows (%d)", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, formatTime(time.Now())); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}
