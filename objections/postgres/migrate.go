package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationSeparator splits a migration file into its up and down SQL, as
// tern does.
const migrationSeparator = "---- create above / drop below ----"

// migrateLockKey is the pg_advisory_lock key that serialises Migrate
// across processes ("verzet" in ASCII).
const migrateLockKey int64 = 0x7665727a6574

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	up      string
	down    string
}

// loadMigrations reads NNN_name.sql files from fsys, in version order. The
// versions must run 1, 2, 3, … without gaps or repeats.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	paths, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, p := range paths {
		base := path.Base(p)
		num, name, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNN_name.sql", base)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		up, down, _ := strings.Cut(string(b), migrationSeparator)
		if strings.TrimSpace(up) == "" {
			return nil, fmt.Errorf("migration %s: no SQL above %q", base, migrationSeparator)
		}
		ms = append(ms, migration{version: v, name: name, up: up, down: down})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %03d_%s: want version %d (versions must run 1, 2, 3, … without gaps)", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// Migrate brings the schema up to date with the embedded migrations. It
// holds a session advisory lock while it works, so that two processes
// starting at once apply each migration once; the second waits and then
// finds nothing to do. Each migration runs in its own transaction together
// with its row in schema_version. EUNAVAILABLE when the database cannot be
// reached; EINTERNAL when a migration fails or the database has a version
// this binary does not know (a newer release migrated it).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := embeddedMigrations()
	if err != nil {
		return objections.Internal("load migrations", err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return translate("migrate: acquire connection", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return translate("migrate: take advisory lock", err)
	}
	defer func() {
		// Unlock even when ctx is done; a connection that could not unlock
		// is closed, which ends the session and its lock, rather than going
		// back to the pool still holding it.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrateLockKey); err != nil {
			_ = conn.Conn().Close(uctx)
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return translate("migrate: create schema_version", err)
	}
	rows, _ := conn.Query(ctx, `SELECT version FROM schema_version`)
	done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return translate("migrate: read schema_version", err)
	}
	applied := make(map[int]bool, len(done))
	for _, v := range done {
		if int(v) > len(ms) {
			// Writing evidence through a schema this binary does not know
			// could lose or misread it: refuse, and say what to do.
			return objections.Internal("migrate", fmt.Errorf(
				"the database is at schema version %d, newer than this binary's %d: run a newer verzet", v, len(ms)))
		}
		applied[int(v)] = true
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.up); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return translate(fmt.Sprintf("migrate: apply %03d_%s", m.version, m.name), err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration version, 0 for an
// empty database. EUNAVAILABLE when the database cannot be reached.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, translate("read schema version", err)
	}
	if !exists {
		return 0, nil
	}
	var v int32
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, translate("read schema version", err)
	}
	return int(v), nil
}

// LatestSchemaVersion is the version the embedded migrations bring a
// database to.
func LatestSchemaVersion() int {
	ms, err := embeddedMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// embeddedMigrations returns the migrations built into the binary.
func embeddedMigrations() ([]migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return loadMigrations(sub)
}
