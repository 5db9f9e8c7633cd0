package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/storetest"
)

// copyAll copies every table of sn into ld and commits. The loader defers
// foreign keys to its commit, so any order does.
func copyAll(t *testing.T, sn *Snapshot, ld *Loader) {
	t.Helper()
	ctx := context.Background()
	tables, err := sn.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for table := range tables {
		cols, err := sn.Columns(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		want, err := sn.Count(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := ld.Load(ctx, table, cols, sn.Rows(ctx, table, cols)); err != nil || n != want {
			t.Fatalf("load %s: %d of %d rows, %v", table, n, want, err)
		}
	}
	if err := ld.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// A store copied table by table into another reads as the original, and
// the copy's triggers work again after the load.
func TestSnapshotLoaderRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, b := mustOpen(t, ""), mustOpen(t, "")
	storetest.Fill(t, a, 10)
	sn, err := a.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	ld, err := b.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	copyAll(t, sn, ld)
	if got, want := storetest.Contents(t, b), storetest.Contents(t, a); got != want {
		t.Fatalf("copy reads differently:\n%s\nwant\n%s", got, want)
	}
	before, _ := b.OutboxStats(ctx, []string{storetest.FillTarget})
	if _, _, err := newRegister(b).Record(ctx, objections.Objection{Org: "acme", Number: "0612340000", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	if after, _ := b.OutboxStats(ctx, []string{storetest.FillTarget}); after.Pending != before.Pending+1 {
		t.Fatalf("outbox trigger after the load: pending %d, before %d", after.Pending, before.Pending)
	}
	if n, err := objections.VerifyChain(ctx, b); err != nil || n != 91 { // Fill: 9 events a round, and this one
		t.Fatalf("chain after a write = %d, %v", n, err)
	}
}

// Values in the neutral form PostgreSQL's snapshot gives (time.Time, bool,
// []byte for text, NULL for an absent time) are stored in this store's
// form; a value a column cannot hold is refused, naming the column only.
func TestLoaderConvertsNeutralValues(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "")
	ld, err := s.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.FixedZone("CET", 3600))
	if _, err := ld.Load(ctx, "orgs", []string{"id", "name", "sector", "relation_term_months", "language", "auto_created", "created_at", "updated_at", "ivr"},
		seq([]any{"acme", []byte("Acme"), "charity", int32(36), "nl", true, at, at, "{}"})); err != nil {
		t.Fatal(err)
	}
	if _, err := ld.Load(ctx, "users", []string{"id", "name", "role", "password_hash", "created_at", "locked_until", "last_sign_in_at"},
		seq([]any{"u1", "marieke", "admin", "$2a$04$x", at, nil, at})); err != nil {
		t.Fatal(err)
	}
	if _, err := ld.Load(ctx, "call_states", []string{"provider", "ref", "version", "data", "updated_at"},
		seq([]any{"twilio", "CA1", int64(1), []byte{0, 0xff}, at})); err != nil {
		t.Fatal(err)
	}
	if err := ld.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	o, err := s.Org(ctx, "acme")
	if err != nil || o.Name != "Acme" || !o.AutoCreated || !o.CreatedAt.Equal(at) || o.RelationTermMonths != 36 {
		t.Fatalf("org = %+v, %v", o, err)
	}
	u, err := s.User(ctx, "u1")
	if err != nil || !u.LockedUntil.IsZero() || !u.LastSignInAt.Equal(at) {
		t.Fatalf("user = %+v, %v", u, err)
	}
	c, err := s.LoadCall(ctx, "twilio", "CA1")
	if err != nil || string(c.Data) != "\x00\xff" {
		t.Fatalf("call = %+v, %v", c, err)
	}
}

func TestLoaderRefusesWhatAColumnCannotHold(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "")
	ld, err := s.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	_, err = ld.Load(ctx, "api_tokens", []string{"id", "revoked_at"}, seq([]any{"t1", struct{}{}}))
	if objections.ErrorCode(err) != objections.EINVALID || err.Error() != `column "api_tokens.revoked_at": a struct {} cannot go into a TEXT column` {
		t.Fatalf("unstorable value: %v", err)
	}
	if _, err := ld.Load(ctx, "api_tokens", []string{"nope"}, seq()); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("unknown column: %v", err)
	}
}

// A load that is not committed changes nothing, triggers included.
func TestLoaderCloseRollsBack(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "")
	if err := s.SetWebhookTargets(ctx, []string{"https://x.example/h"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ld, err := s.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ld.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newRegister(s).Record(ctx, objections.Objection{Org: "acme", Number: "0612340000", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.OutboxStats(ctx, []string{"https://x.example/h"}); st.Pending != 1 {
		t.Fatalf("outbox after a rolled-back load: %+v", st)
	}
}

// A backup taken while the store is written is a consistent copy: it
// opens, its chain verifies, it holds what was committed before it began.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "")
	r := newRegister(s)
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
				t.Errorf("write: %v", err)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	b := mustOpen(t, path)
	n, err := objections.VerifyChain(ctx, b)
	if err != nil || n < 20 || n > written.Load() {
		t.Fatalf("backup chain = %d events (%d written), %v", n, written.Load(), err)
	}
	if err := s.Backup(ctx, path); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("backup onto an existing file: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*partial*")); len(matches) != 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
}

// seq yields rows.
func seq(rows ...[]any) func(func([]any, error) bool) {
	return func(yield func([]any, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// A table and columns the schema does not know yet (a later migration's)
// are read and written like the others.
func TestLoaderDiscoversNewTablesAndColumns(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "")
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE later (id TEXT NOT NULL PRIMARY KEY, orgs TEXT NOT NULL, flag INTEGER NOT NULL, at TEXT) STRICT`); err != nil {
		t.Fatal(err)
	}
	ld, err := s.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ld.Columns(ctx, "later")
	if err != nil || fmt.Sprint(cols) != "[id orgs flag at]" {
		t.Fatalf("columns = %v, %v", cols, err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if _, err := ld.Load(ctx, "later", cols, seq([]any{"x", `["acme"]`, true, at}, []any{"y", "[]", false, nil})); err != nil {
		t.Fatal(err)
	}
	if err := ld.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sn, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	var got []string
	for row, err := range sn.Rows(ctx, "later", cols) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%#v", row))
	}
	want := `[[]interface {}{"x", "[\"acme\"]", 1, "2026-03-02T09:00:00.000000Z"} []interface {}{"y", "[]", 0, interface {}(nil)}]`
	if fmt.Sprint(got) != want {
		t.Fatalf("rows = %v\nwant %v", got, want)
	}
}
