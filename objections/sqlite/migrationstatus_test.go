package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Migrations tells applied from pending without changing anything, and
// names a version only a newer binary knows.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := s.Migrations(ctx)
	if err != nil || len(ms) != len(want) || ms[0].Name != "init" {
		t.Fatalf("new file: %+v, %v", ms, err)
	}
	for _, m := range ms {
		if m.Applied || !m.Known {
			t.Fatalf("new file: %+v", m)
		}
	}
	var tables int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("Migrations changed the file: %d tables, %v", tables, err)
	}

	before := time.Now().Add(-time.Minute)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, '099_from_the_future.sql', ?)`,
		len(want)+1, formatTime(time.Now())); err != nil {
		t.Fatal(err)
	}
	ms, err = s.Migrations(ctx)
	if err != nil || len(ms) != len(want)+1 {
		t.Fatalf("migrated: %d migrations, %v", len(ms), err)
	}
	for i, m := range ms {
		if m.Version != i+1 || !m.Applied || m.AppliedAt.Before(before) || m.Known != (i < len(want)) {
			t.Errorf("migrated: %+v", m)
		}
	}
	if last := ms[len(ms)-1]; last.Name != "from_the_future" {
		t.Errorf("newer migration: %+v", last)
	}
}
