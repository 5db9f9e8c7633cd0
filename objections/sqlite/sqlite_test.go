package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/storetest"
)

// Environment of the child process of TestSecondProcess.
const (
	childDBEnv     = "VERZET_SQLITE_TEST_CHILD_DB"
	childPrefixEnv = "VERZET_SQLITE_TEST_CHILD_PREFIX"
	childCountEnv  = "VERZET_SQLITE_TEST_CHILD_COUNT"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(childDBEnv); path != "" {
		os.Exit(runChild(path))
	}
	goleak.VerifyTestMain(m)
}

// runChild is the second process of TestSecondProcess: it records objections
// in the shared file, as a second verzet process would.
func runChild(path string) int {
	n, err := strconv.Atoi(os.Getenv(childCountEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child count:", err)
		return 2
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 1
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child migrate:", err)
		return 1
	}
	r := objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)
	for i := range n {
		num := fmt.Sprintf("%s%04d", os.Getenv(childPrefixEnv), i)
		if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: num, Source: objections.SourceIVRARI}); err != nil {
			fmt.Fprintln(os.Stderr, "child record:", err)
			return 1
		}
	}
	return 0
}

// mustOpen opens and migrates a store on path (a new file in a temp dir when
// empty) and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "verzet.db")
	}
	s, err := Open(context.Background(), path)
	return storetest.Migrated(tb, s, err)
}

func newRegister(s objections.Store) *objections.Register {
	return objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir", "with #odd? chars%", "verzet.db")
	s := mustOpen(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	var mode, fk, sync string
	for q, dst := range map[string]*string{"PRAGMA journal_mode": &mode, "PRAGMA foreign_keys": &fk, "PRAGMA synchronous": &sync} {
		if err := s.db.QueryRow(q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// synchronous FULL is 2.
	if mode != "wal" || fk != "1" || sync != "2" {
		t.Fatalf("journal_mode %s, foreign_keys %s, synchronous %s; want wal, 1, 2", mode, fk, sync)
	}
}

func TestOpenEmptyPath(t *testing.T) {
	if _, err := Open(context.Background(), " "); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("empty path: %v", err)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verzet.db")
	s := mustOpen(t, path)
	ctx := context.Background()
	if _, _, err := newRegister(s).Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
	}
	// A second store on the same file migrates as a no-op too.
	other := mustOpen(t, path)
	var versions int
	if err := other.db.QueryRow("SELECT count(*) FROM schema_version").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if versions != len(ms) {
		t.Fatalf("%d schema_version rows, want %d", versions, len(ms))
	}
	if list, err := other.Objections(ctx, objections.ObjectionFilter{}); err != nil || len(list) != 1 {
		t.Fatalf("objections after re-migrate = %d, %v", len(list), err)
	}
}

func TestMigrateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verzet.db")
	ctx := context.Background()
	stores := make([]*Store, 4)
	for i := range stores {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d migrate: %v", i, err)
		}
	}
}

func TestMigrateNewerSchema(t *testing.T) {
	s := mustOpen(t, "")
	if _, err := s.db.Exec("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future.sql', 'x')"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); objections.ErrorCode(err) != objections.EINTERNAL {
		t.Fatalf("migrate with a newer schema: %v", err)
	}
}

func TestLoadMigrationsSplitsDown(t *testing.T) {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		// No statement of the down part runs. (An up part may drop a
		// table of its own: 009 rebuilds offers.)
		b, err := migrationFS.ReadFile("migrations/" + m.name)
		if err != nil {
			t.Fatal(err)
		}
		_, down, _ := bytes.Cut(b, []byte(migrationSplit))
		for _, stmt := range bytes.Split(down, []byte(";")) {
			stmt = bytes.TrimSpace(stmt)
			if bytes.HasPrefix(stmt, []byte("DROP")) && bytes.Contains([]byte(m.sql), stmt) {
				t.Fatalf("migration %s: the down part would run (%s)", m.name, stmt)
			}
		}
	}
}

// Two Stores on one file stand for two processes: what one records the
// other's Facts sees at once.
func TestTwoStoresSameFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verzet.db")
	a, b := mustOpen(t, path), mustOpen(t, path)
	ctx := context.Background()
	// Warm b's pool so that it reads through an open connection and snapshot.
	if _, err := b.Facts(ctx, "acme", "+31612345678", ""); err != nil {
		t.Fatal(err)
	}
	o, created, err := newRegister(a).Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if err != nil || !created {
		t.Fatalf("record: %v created %v", err, created)
	}
	f, err := b.Facts(ctx, "acme", "+31612345678", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Objections) != 1 || f.Objections[0].ID != o.ID || !f.Org.AutoCreated {
		t.Fatalf("other store's facts = %+v", f)
	}
	d, err := newRegister(b).Decide(ctx, "acme", "06 12345678", "", time.Time{})
	if err != nil || d.Callable {
		t.Fatalf("other store's decision = %+v, %v", d, err)
	}
	// And the repeat through the other store is idempotent.
	again, created, err := newRegister(b).Record(ctx, objections.Objection{Org: "acme", RawNumber: "+31612345678", Source: objections.SourceEmail})
	if err != nil || created || again.ID != o.ID {
		t.Fatalf("repeat through other store = %+v created %v err %v", again, created, err)
	}
}

// 16 writers over two Stores on one file record the same number: one
// objection, one event.
func TestConcurrentSameNumberTwoStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verzet.db")
	regs := []*objections.Register{newRegister(mustOpen(t, path)), newRegister(mustOpen(t, path))}
	ctx := context.Background()
	ids := make([]string, 16)
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			o, _, err := regs[i%2].Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRARI})
			ids[i], errs[i] = o.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("writer %d got %s, writer 0 got %s", i, ids[i], ids[0])
		}
	}
	s := regs[0].Store()
	if list, err := s.Objections(ctx, objections.ObjectionFilter{}); err != nil || len(list) != 1 {
		t.Fatalf("objections = %d, %v; want 1", len(list), err)
	}
	if n, err := objections.VerifyChain(ctx, s); err != nil || n != 1 {
		t.Fatalf("verify = %d, %v; want 1", n, err)
	}
}

// Writers on different numbers over two Stores on one file all succeed (no
// SQLITE_BUSY surfaces) and the chain holds every event in order.
func TestConcurrentDifferentNumbersTwoStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verzet.db")
	regs := []*objections.Register{newRegister(mustOpen(t, path)), newRegister(mustOpen(t, path))}
	ctx := context.Background()
	const writers, each = 8, 25
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				num := fmt.Sprintf("+316%02d%06d", 10+w, i)
				if _, created, err := regs[w%2].Record(ctx, objections.Objection{Org: "acme", RawNumber: num, Source: objections.SourceAPI}); err != nil || !created {
					errs <- fmt.Errorf("writer %d record %s: created %v, %w", w, num, created, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := objections.VerifyChain(ctx, regs[1].Store()); err != nil || n != writers*each {
		t.Fatalf("verify = %d, %v; want %d", n, err, writers*each)
	}
}

// A real second process records in the same file while this one writes too;
// afterwards this process sees every objection of the other and one intact
// chain.
func TestSecondProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second process")
	}
	path := filepath.Join(t.TempDir(), "verzet.db")
	s := mustOpen(t, path)
	r := newRegister(s)
	ctx := context.Background()
	const n = 20

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDBEnv+"="+path, childPrefixEnv+"=+3162000", childCountEnv+"="+strconv.Itoa(n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var parentErr error
	for i := range n {
		if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: fmt.Sprintf("+3163000%04d", i), Source: objections.SourceAgent}); err != nil {
			parentErr = err
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if parentErr != nil {
		t.Fatalf("parent record: %v", parentErr)
	}
	for i := range n {
		num := fmt.Sprintf("+3162000%04d", i)
		f, err := s.Facts(ctx, "acme", num, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Objections) != 1 {
			t.Fatalf("facts for the child's %s: %d objections", num, len(f.Objections))
		}
	}
	if got, err := objections.VerifyChain(ctx, s); err != nil || got != 2*n {
		t.Fatalf("verify = %d, %v; want %d", got, err, 2*n)
	}
}

// While another connection holds the write lock, a write whose context ends
// first fails with EUNAVAILABLE and no driver type in its chain.
func TestWriteWhileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verzet.db")
	s := mustOpen(t, path)
	other := mustOpen(t, path)
	ctx := context.Background()
	conn, err := other.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.ExecContext(ctx, "ROLLBACK") }()

	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, _, err = newRegister(s).Record(wctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if objections.ErrorCode(err) != objections.EUNAVAILABLE {
		t.Fatalf("record while locked: %v (code %s)", err, objections.ErrorCode(err))
	}
	var c coder
	if errors.As(err, &c) {
		t.Fatalf("driver error escaped: %#v", c)
	}
	// Reads go on under the writer's lock (WAL).
	if _, err := s.Facts(ctx, "acme", "+31612345678", ""); err != nil {
		t.Fatalf("read while locked: %v", err)
	}
}

func TestAppendOnly(t *testing.T) {
	s := mustOpen(t, "")
	ctx := context.Background()
	r := newRegister(s)
	o, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Void(ctx, o.ID, "admin", "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "final", Outcome: objections.OutcomeNoInput}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.StartOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "open"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE offers SET played_ms = 1 WHERE call_ref = 'final'",
		"DELETE FROM offers",
		"UPDATE offers SET id = '01RENAMED' WHERE call_ref = 'open'",
		`INSERT INTO offers (id, org, provider, call_ref, announced, played_ms, barge_in, outcome, started_at, ended_at)
			VALUES ('01OFFER', 'acme', 'ari', 'final', 0, 0, 0, 'no_input', 'x', 'x')`,
		"UPDATE objections SET note = 'edited'",
		"DELETE FROM objections",
		"UPDATE objection_voids SET reason = 'edited'",
		"DELETE FROM objection_voids",
		"UPDATE events SET payload = '{}'",
		"DELETE FROM events",
	} {
		if _, err := s.db.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	if _, err := objections.VerifyChain(ctx, s); err != nil {
		t.Fatal(err)
	}
}

func TestEventPayloadIsRecord(t *testing.T) {
	s := mustOpen(t, "")
	ctx := context.Background()
	o, _, err := newRegister(s).Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent, Note: "<&> \u00e9"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.Events(ctx, 0, 0)
	if err != nil || len(ev) != 1 {
		t.Fatalf("events = %+v, %v", ev, err)
	}
	if !bytes.Equal(ev[0].Payload, want) {
		t.Fatalf("payload\n got %s\nwant %s", ev[0].Payload, want)
	}
	if !ev[0].At.Equal(o.ReceivedAt) || ev[0].At.Location() != time.UTC {
		t.Fatalf("event at %v, received %v", ev[0].At, o.ReceivedAt)
	}
}

func TestTimeFormatSortsAndRoundTrips(t *testing.T) {
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	times := []time.Time{
		base,
		base.Add(time.Microsecond),
		base.Add(250 * time.Millisecond),
		base.Add(500 * time.Millisecond),
		base.Add(550 * time.Millisecond),
		base.Add(time.Second),
		base.Add(time.Second + 1),
	}
	for i, tt := range times {
		s := formatTime(tt)
		got, err := parseTime(s)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(objections.StoredTime(tt)) || got.Location() != time.UTC {
			t.Errorf("%v: round trip %v", tt, got)
		}
		if i > 0 && formatTime(times[i-1]) > s {
			t.Errorf("%s sorts after %s", formatTime(times[i-1]), s)
		}
	}
	ams := time.Date(2026, 3, 2, 10, 0, 0, 0, objections.Amsterdam())
	if formatTime(ams) != "2026-03-02T09:00:00.000000Z" {
		t.Errorf("amsterdam time stored as %s", formatTime(ams))
	}
}

type codeErr int

func (e codeErr) Error() string { return "sqlite code " + strconv.Itoa(int(e)) }
func (e codeErr) Code() int     { return int(e) }

func TestTranslate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unique", fmt.Errorf("insert: %w", codeErr(2067)), objections.ECONFLICT},
		{"primary key", codeErr(1555), objections.ECONFLICT},
		{"trigger abort", codeErr(19), objections.ECONFLICT},
		{"busy", codeErr(5), objections.EUNAVAILABLE},
		{"busy snapshot", codeErr(517), objections.EUNAVAILABLE},
		{"locked", codeErr(6), objections.EUNAVAILABLE},
		{"fsync", codeErr(1034), objections.EUNAVAILABLE},
		{"disk full", codeErr(13), objections.EUNAVAILABLE},
		{"cannot open", codeErr(14), objections.EUNAVAILABLE},
		{"sql error", codeErr(1), objections.EINTERNAL},
		{"canceled", fmt.Errorf("query: %w", context.Canceled), objections.EUNAVAILABLE},
		{"deadline", context.DeadlineExceeded, objections.EUNAVAILABLE},
		{"conn done", sql.ErrConnDone, objections.EUNAVAILABLE},
		{"other", errors.New("boom"), objections.EINTERNAL},
		{"not found", notFound(sql.ErrNoRows, "id", "x"), objections.ENOTFOUND},
		{"domain", objections.Invalid("f", "v", "bad"), objections.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := translate("doing", tc.err)
			if got := objections.ErrorCode(err); got != tc.want {
				t.Fatalf("code = %s, want %s (%v)", got, tc.want, err)
			}
			var c coder
			if errors.As(err, &c) {
				t.Fatalf("driver error escaped: %v", err)
			}
		})
	}
}

func TestTranslateKeepsCanceled(t *testing.T) {
	err := translate("doing", fmt.Errorf("x: %w", context.Canceled))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v does not match context.Canceled", err)
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	s := mustOpen(t, "")
	_, err := s.db.Exec(`INSERT INTO objections (id, org, number, received_at, source, status)
		VALUES ('x', 'no-such-org', '+31612345678', '2026-01-01T00:00:00.000000Z', 'agent', 'active')`)
	if err == nil {
		t.Fatal("objection of an unknown org was stored")
	}
}

func TestStoreRejectsBadOrg(t *testing.T) {
	s := mustOpen(t, "")
	_, _, err := s.RecordObjection(context.Background(), objections.Objection{ID: "x", Org: "Bad Org", Number: "+31612345678", Status: objections.StatusActive})
	if objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("bad org: %v", err)
	}
}
