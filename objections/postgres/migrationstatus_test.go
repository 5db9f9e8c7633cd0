package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/verzet/verzet/objections/postgres/pgtest"
)

// Migrations tells applied from pending without changing anything, and
// names a version only a newer binary knows.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.DSN(t))
	ms, err := s.Migrations(ctx)
	if err != nil || len(ms) != LatestSchemaVersion() || ms[0].Name != "init" {
		t.Fatalf("empty database: %+v, %v", ms, err)
	}
	for _, m := range ms {
		if m.Applied || !m.Known {
			t.Fatalf("empty database: %+v", m)
		}
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("Migrations changed the database: version %d, %v", v, err)
	}

	before := time.Now().Add(-time.Minute)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, 'from_the_future')`, LatestSchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	ms, err = s.Migrations(ctx)
	if err != nil || len(ms) != LatestSchemaVersion()+1 {
		t.Fatalf("migrated: %d migrations, %v", len(ms), err)
	}
	for i, m := range ms {
		if m.Version != i+1 || !m.Applied || m.AppliedAt.Before(before) || m.Known != (i < LatestSchemaVersion()) {
			t.Errorf("migrated: %+v", m)
		}
	}
	if last := ms[len(ms)-1]; last.Name != "from_the_future" {
		t.Errorf("newer migration: %+v", last)
	}
}
