package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/objections/storetest"
)

// openSQLite opens (creating and migrating) the embedded store in dir, as
// serve would, closed when t ends.
func openSQLite(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func openPostgresStore(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The done-when for moving stores: SQLite → PostgreSQL → SQLite
// with data of every kind, read back alike through the stores' own reads,
// the chain verifying on each copy, and a copy's store usable at once.
func TestCopyRoundTripSQLitePostgresSQLite(t *testing.T) {
	ctx := context.Background()
	dirA, dirC := t.TempDir(), filepath.Join(t.TempDir(), "c")
	dsn := pgtest.DSN(t)
	a := openSQLite(t, dirA)
	storetest.Fill(t, a, 40)

	// A → B (PostgreSQL).
	envA := []string{"VERZET_DATA_DIR=" + dirA, "VERZET_DATABASE_URL="}
	out, errOut, code := run(t, envA, "copy", "--to", dsn)
	if code != 0 {
		t.Fatalf("copy to PostgreSQL: %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"objections", "events", "ui_sessions", "skipped", "chain intact on the copy", "copy verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("copy's report lacks %q:\n%s", want, out)
		}
	}
	// B → C (SQLite again).
	envB := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=" + dsn}
	out, errOut, code = run(t, envB, "copy", "--to", dirC)
	if code != 0 {
		t.Fatalf("copy to SQLite: %d\n%s\n%s", code, out, errOut)
	}
	envC := []string{"VERZET_DATA_DIR=" + dirC, "VERZET_DATABASE_URL="}
	events, err := objections.VerifyChain(ctx, a)
	if err != nil || events < 200 {
		t.Fatalf("the original's chain: %d, %v", events, err)
	}
	for name, env := range map[string][]string{"postgres": envB, "sqlite copy": envC} {
		if out, errOut, code := run(t, env, "verify"); code != 0 || !strings.Contains(out, fmt.Sprintf("chain intact: %d events verified", events)) {
			t.Fatalf("verify on the %s: %d %q %q", name, code, out, errOut)
		}
	}

	b, c := openPostgresStore(t, dsn), openSQLite(t, dirC)
	want := storetest.Contents(t, a)
	if got := storetest.Contents(t, b); got != want {
		t.Errorf("PostgreSQL copy reads differently:\n%s", lineDiff(want, got))
	}
	if got := storetest.Contents(t, c); got != want {
		t.Errorf("SQLite copy of the copy reads differently:\n%s", lineDiff(want, got))
	}

	// Each copy takes writes at once: the event chain goes on from the
	// copied head, the outbox trigger and the identity columns work.
	for name, s := range map[string]storetest.Store{"postgres": b, "sqlite": c} {
		before, err := s.OutboxStats(ctx, []string{storetest.FillTarget})
		if err != nil {
			t.Fatal(err)
		}
		r := objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)
		if _, created, err := r.Record(ctx, objections.Objection{Org: "acme", Number: "0655555555", Source: objections.SourceAgent}); err != nil || !created {
			t.Fatalf("%s: record after copy: %v created %v", name, err, created)
		}
		e, err := access.NewAuditEntry(time.Now(), "admin", access.AuditView, "x", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("%s: audit after copy: %v", name, err)
		}
		if n, err := objections.VerifyChain(ctx, s); err != nil || n != events+1 {
			t.Fatalf("%s: chain after a write = %d, %v; want %d", name, n, err, events+1)
		}
		if after, err := s.OutboxStats(ctx, []string{storetest.FillTarget}); err != nil || after.Pending != before.Pending+1 {
			t.Fatalf("%s: outbox after a write = %+v, %v; before %+v", name, after, err, before)
		}
	}
}

// lineDiff shows the first lines where two renderings differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// A target that holds data is refused, naming a table with rows; nothing
// is written to it.
func TestCopyRefusesNonEmptyTarget(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			src := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL="}
			initStore(t, src)
			setOrg(t, src, "acme")
			if _, errOut, code := run(t, src, "objections", "record", "0612345678", "--org", "acme"); code != 0 {
				t.Fatal(errOut)
			}
			dst := b.env(t)
			initStore(t, dst)
			setOrg(t, dst, "other")
			to := strings.TrimPrefix(dst[1], "VERZET_DATABASE_URL=")
			if to == "" {
				to = strings.TrimPrefix(dst[0], "VERZET_DATA_DIR=")
			}
			out, errOut, code := run(t, src, "copy", "--to", to)
			if code != 2 || !strings.Contains(errOut, "not empty: table orgs has 1 rows") {
				t.Fatalf("copy into a non-empty store: %d %q %q", code, out, errOut)
			}
			if out, _, _ := run(t, dst, "objections", "list", "--org", "other", "--json"); strings.TrimSpace(out) != "[]" {
				t.Fatalf("the refused target was written to: %q", out)
			}
			if _, errOut, code := run(t, src, "copy", "--to", strings.TrimPrefix(src[0], "VERZET_DATA_DIR=")); code != 2 || !strings.Contains(errOut, "configured store itself") {
				t.Fatalf("copy onto itself: %d %q", code, errOut)
			}
		})
	}
}

// verzet backup while another process writes: the file opens, its chain
// verifies, and it holds a prefix of what was written; an existing file is
// never overwritten; a PostgreSQL store is referred to pg_dump.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSQLite(t, dir)
	storetest.Fill(t, s, 5)
	r := objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)

	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", Number: fmt.Sprintf("+3165%07d", i), Source: objections.SourceAPI}); err != nil {
				t.Errorf("write during backup: %v", err)
				return
			}
			written.Add(1)
		}
	})
	base, err := objections.VerifyChain(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	for written.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	env := []string{"VERZET_DATA_DIR=" + dir, "VERZET_DATABASE_URL="}
	file := filepath.Join(t.TempDir(), "verzet-backup.db")
	out, errOut, code := run(t, env, "backup", file)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "chain intact in the backup") {
		t.Fatalf("backup: %d\n%s\n%s", code, out, errOut)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}

	// Restore it as an operator would: the file as verzet.db of a data dir.
	restored := t.TempDir()
	if err := os.Rename(file, filepath.Join(restored, "verzet.db")); err != nil {
		t.Fatal(err)
	}
	renv := []string{"VERZET_DATA_DIR=" + restored, "VERZET_DATABASE_URL="}
	out, errOut, code = run(t, renv, "verify")
	if code != 0 || !strings.Contains(out, "chain intact") {
		t.Fatalf("verify the restored backup: %d %q %q", code, out, errOut)
	}
	var events int64
	if _, err := fmt.Sscanf(out, "chain intact: %d events verified", &events); err != nil || events < base+50 || events > base+written.Load() {
		t.Fatalf("restored backup has %d events; %d before the writes, 50 before the backup began, %d by its end (%v)", events, base, written.Load(), err)
	}

	// An existing file is refused and left as it was.
	if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, env, "backup", file); code != 2 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("backup onto an existing file: %d %q", code, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Fatalf("the existing file was changed: %q", b)
	}

	pg := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=" + pgtest.DSN(t)}
	initStore(t, pg)
	if _, errOut, code := run(t, pg, "backup", filepath.Join(t.TempDir(), "x.db")); code != 2 || !strings.Contains(errOut, "pg_dump") {
		t.Fatalf("backup of PostgreSQL: %d %q", code, errOut)
	}
}

// Run where there is no store, backup and copy refuse as every command
// does, and create nothing: not the source, not the copy's target.
func TestBackupAndCopyNeedAStore(t *testing.T) {
	dir := emptyFolder(t)
	for _, args := range [][]string{{"backup", "b.db"}, {"copy", "--to", "elsewhere"}} {
		t.Run(args[0], func(t *testing.T) {
			out, errOut, code := inProcess(t, nil, "", args...)
			if code != exitFailure || !strings.Contains(errOut, filepath.Join(dir, "data", "verzet.db")) || !strings.Contains(errOut, "verzet init") {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			assertEmpty(t, dir)
		})
	}
	if _, errOut, code := inProcess(t, nil, "", "copy"); code != exitFailure || !strings.Contains(errOut, "--to") {
		t.Fatalf("copy without --to: %d %q", code, errOut)
	}
	if _, errOut, code := inProcess(t, nil, "", "copy", "--to", "mysql://db/x"); code != exitFailure || !strings.Contains(errOut, "neither a PostgreSQL URL") {
		t.Fatalf("copy to mysql: %d %q", code, errOut)
	}
}
