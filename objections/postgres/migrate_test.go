package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres/pgtest"
)

func TestMigrateIdempotent(t *testing.T) {
	s := openStore(t) // migrated once
	ctx := context.Background()
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != LatestSchemaVersion() || v == 0 {
		t.Fatalf("schema version = %d, %v; want %d", v, err, LatestSchemaVersion())
	}
	var rows int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_version`).Scan(&rows); err != nil || rows != v {
		t.Fatalf("schema_version rows = %d, %v; want %d", rows, err, v)
	}
}

// Two processes starting at once: the advisory lock lets one migrate and
// the other find nothing left to do.
func TestMigrateConcurrent(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	stores := []*Store{openDSN(t, dsn), openDSN(t, dsn), openDSN(t, dsn)}
	if v, err := stores[0].SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("fresh database at version %d, %v", v, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrate %d: %v", i, err)
		}
	}
	for _, s := range stores {
		if v, err := s.SchemaVersion(ctx); err != nil || v != LatestSchemaVersion() {
			t.Fatalf("schema version = %d, %v", v, err)
		}
	}
	// The lock was released: a later migrate does not wait forever.
	if err := stores[1].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
}

// The down SQL of every migration, applied newest first, removes what the
// up SQL made.
func TestMigrationsDown(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ms, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if strings.TrimSpace(ms[i].down) == "" {
			t.Fatalf("migration %d has no down SQL", ms[i].version)
		}
		if _, err := s.Pool().Exec(ctx, ms[i].down); err != nil {
			t.Fatalf("down %d: %v", ms[i].version, err)
		}
	}
	var n int
	err = s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version'`).Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("%d tables left after down, %v", n, err)
	}
}

const sep = "\n" + migrationSeparator + "\n"

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string // versions and up SQL
	}{
		{"ordered", fstest.MapFS{
			"002_b.sql": {Data: []byte("CREATE TABLE b ();" + sep + "DROP TABLE b;")},
			"001_a.sql": {Data: []byte("CREATE TABLE a ();" + sep + "DROP TABLE a;")},
		}, "1 a CREATE TABLE a ();|2 b CREATE TABLE b ();|"},
		{"no down", fstest.MapFS{"001_a.sql": {Data: []byte("CREATE TABLE a ();")}}, "1 a CREATE TABLE a ();|"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, m := range ms {
				fmt.Fprintf(&got, "%d %s %s|", m.version, m.name, strings.TrimSpace(m.up))
			}
			if got.String() != tc.want {
				t.Fatalf("migrations = %q; want %q", got.String(), tc.want)
			}
		})
	}
}

func TestLoadMigrationsErrors(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"gap", fstest.MapFS{
			"001_a.sql": {Data: []byte("SELECT 1;")},
			"003_c.sql": {Data: []byte("SELECT 1;")},
		}, "want version 2"},
		{"repeat", fstest.MapFS{
			"001_a.sql":  {Data: []byte("SELECT 1;")},
			"0001_b.sql": {Data: []byte("SELECT 1;")},
		}, "want version 2"},
		{"bad name", fstest.MapFS{"init.sql": {Data: []byte("SELECT 1;")}}, "NNN_name.sql"},
		{"zero", fstest.MapFS{"000_a.sql": {Data: []byte("SELECT 1;")}}, "NNN_name.sql"},
		{"empty up", fstest.MapFS{"001_a.sql": {Data: []byte(sep + "DROP TABLE a;")}}, "no SQL above"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadMigrations(tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
}

// An older binary does not write through a schema it does not know.
func TestMigrateNewerSchema(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, `INSERT INTO schema_version (version, name) VALUES (999, 'future')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); objections.ErrorCode(err) != objections.EINTERNAL || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("migrate with a newer schema: %v", err)
	}
}
