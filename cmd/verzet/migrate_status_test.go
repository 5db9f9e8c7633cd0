package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections/postgres"
)

// migrate --status lists applied and pending migrations, creates and
// changes nothing, and exits 0 up to date, 1 pending.
func TestMigrateStatus(t *testing.T) {
	latest := postgres.LatestSchemaVersion()
	pendingLine := regexp.MustCompile(fmt.Sprintf(`(?m)^%03d\s+\S+\s+pending$`, latest))
	latestName := regexp.MustCompile(fmt.Sprintf(`(?m)^%03d\s+(\S+)\s`, latest))
	appliedLine := regexp.MustCompile(`(?m)^001\s+init\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			status := func() (string, int) {
				t.Helper()
				out, errOut, code := inProcess(t, env, "", "migrate", "--status")
				if errOut != "" {
					t.Errorf("stderr: %s", errOut)
				}
				return out, code
			}
			out, code := status()
			if code != exitPending || !strings.Contains(out, "pending") {
				t.Fatalf("before any migration: exit %d\n%s", code, out)
			}
			if b.name == "sqlite" && !strings.Contains(out, "no store there yet") {
				t.Errorf("no file: %s", out)
			}
			if b.name == "postgres" && !pendingLine.MatchString(out) {
				t.Errorf("empty database: %s", out)
			}
			// Nothing was created or migrated.
			if out, code = status(); code != exitPending {
				t.Fatalf("again: exit %d\n%s", code, out)
			}

			initStore(t, env)
			out, code = status()
			if code != exitOK || !appliedLine.MatchString(out) || !strings.Contains(out, fmt.Sprintf("up to date: schema version %d", latest)) || strings.Contains(out, "pending") {
				t.Fatalf("migrated: exit %d\n%s", code, out)
			}

			// The newest migration not recorded: as a store the previous
			// release left.
			name := latestName.FindStringSubmatch(out)[1]
			execSQL(t, b.name, env, fmt.Sprintf(`DELETE FROM schema_version WHERE version = %d`, latest))
			out, code = status()
			if code != exitPending || !pendingLine.MatchString(out) || !strings.Contains(out, "1 migration(s) pending") {
				t.Fatalf("one pending: exit %d\n%s", code, out)
			}
			if b.name == "sqlite" {
				name = fmt.Sprintf("%03d_%s.sql", latest, name) // as the SQLite store records it
			}
			for v, n := range map[int]string{latest: name, latest + 1: "from_a_newer_verzet"} {
				execSQL(t, b.name, env, fmt.Sprintf(`INSERT INTO schema_version (version, name, applied_at) VALUES (%d, '%s', '2026-03-01T09:00:00.000000Z')`, v, n))
			}
			out, code = status()
			if code != exitOK || !strings.Contains(out, "not in this binary") || !strings.Contains(out, fmt.Sprintf("newer than this binary's %d", latest)) {
				t.Fatalf("newer store: exit %d\n%s", code, out)
			}
		})
	}
}

// execSQL runs one statement on the store env names.
func execSQL(t *testing.T, backend string, env []string, stmt string) {
	t.Helper()
	e := EnvFromList(env)
	if backend == "postgres" {
		conn, err := pgx.Connect(context.Background(), e["VERZET_DATABASE_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), stmt); err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := sql.Open("sqlite", filepath.Join(e["VERZET_DATA_DIR"], "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}
