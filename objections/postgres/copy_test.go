package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/storetest"
)

// copyAll copies every table of sn into ld, each after the tables it
// references, and commits.
func copyAll(t *testing.T, sn *Snapshot, ld *Loader) {
	t.Helper()
	ctx := context.Background()
	tables, err := sn.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for len(done) < len(tables) {
		for table, refs := range tables {
			if done[table] || slices.ContainsFunc(refs, func(r string) bool { return !done[r] }) {
				continue
			}
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
			done[table] = true
		}
	}
	if err := ld.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// A store copied table by table into another reads as the original; the
// copy's triggers, identity columns and chain head work after the load.
func TestSnapshotLoaderRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, b := openStore(t), openStore(t)
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
	if _, _, err := objections.NewRegister(b, objections.Numbers{Region: "NL"}, nil).Record(ctx,
		objections.Objection{Org: "acme", Number: "0612340000", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	if after, _ := b.OutboxStats(ctx, []string{storetest.FillTarget}); after.Pending != before.Pending+1 {
		t.Fatalf("outbox trigger after the load: pending %d, before %d", after.Pending, before.Pending)
	}
	if n, err := objections.VerifyChain(ctx, b); err != nil || n != 91 { // Fill: 9 events a round, and this one
		t.Fatalf("chain after a write = %d, %v", n, err)
	}
}

// Values in the neutral form the embedded store's snapshot gives (times as
// text, ” for an absent time, booleans as 0/1, JSON and bytea as text) are
// stored in PostgreSQL's types; the identity sequences continue past the
// values loaded and the chain's head is the last event loaded.
func TestLoaderConvertsNeutralValues(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ld, err := s.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := "2026-03-02T09:00:00.123456Z"
	load := func(table string, cols []string, rows ...[]any) {
		t.Helper()
		if _, err := ld.Load(ctx, table, cols, seq(rows...)); err != nil {
			t.Fatalf("load %s: %v", table, err)
		}
	}
	load("orgs", []string{"id", "name", "sector", "relation_term_months", "language", "auto_created", "created_at", "updated_at", "ivr"},
		[]any{"acme", "Acme", "charity", int64(36), "nl", int64(1), at, at, "{}"})
	load("users", []string{"id", "name", "role", "password_hash", "must_change_password", "created_at", "locked_until", "last_sign_in_at"},
		[]any{"u1", "marieke", "admin", "$2a$04$x", int64(0), at, "", at})
	load("audit_log", []string{"seq", "id", "at", "actor", "action"},
		[]any{int64(1), "a1", at, "admin", "view"}, []any{int64(7), "a7", at, "admin", "view"})
	load("relations", []string{"id", "org", "number", "kind", "peildatum", "created_at"},
		[]any{"r1", "acme", "+31612345678", "donation", "2025-11-30", at})
	e1, _ := objections.NewEvent(nil, objections.EventObjectionRecorded, "acme", "o1", time.Now(), map[string]string{"id": "o1"})
	e2, _ := objections.NewEvent(&e1, objections.EventObjectionRecorded, "acme", "o2", time.Now(), map[string]string{"id": "o2"})
	var events [][]any
	for _, e := range []objections.Event{e1, e2} {
		events = append(events, []any{e.Seq, string(e.Kind), e.Org, e.SubjectID, e.At.Format("2006-01-02T15:04:05.000000Z"), string(e.Payload), e.PrevHash, e.Hash})
	}
	load("events", []string{"seq", "kind", "org", "subject_id", "at", "payload", "prev_hash", "hash"}, events...)
	if err := ld.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	o, err := s.Org(ctx, "acme")
	if err != nil || !o.AutoCreated || o.CreatedAt.Format(time.RFC3339Nano) != "2026-03-02T09:00:00.123456Z" {
		t.Fatalf("org = %+v, %v", o, err)
	}
	u, err := s.User(ctx, "u1")
	if err != nil || !u.LockedUntil.IsZero() || u.LastSignInAt.IsZero() || u.MustChangePassword {
		t.Fatalf("user = %+v, %v", u, err)
	}
	f, err := s.Facts(ctx, "acme", "+31612345678", "")
	if err != nil || len(f.Relations) != 1 || f.Relations[0].Peildatum.Format("2006-01-02") != "2025-11-30" {
		t.Fatalf("facts = %+v, %v", f, err)
	}
	// The identity column goes on past 7; the chain from event 2.
	e, err := access.NewAuditEntry(time.Now(), "admin", access.AuditView, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, e); err != nil {
		t.Fatalf("audit after the load: %v", err)
	}
	if _, _, err := objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil).Record(ctx,
		objections.Objection{Org: "acme", Number: "0612340000", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	if n, err := objections.VerifyChain(ctx, s); err != nil || n != 3 {
		t.Fatalf("chain = %d, %v", n, err)
	}
}

func TestLoaderRefusesWhatAColumnCannotHold(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	for _, c := range []struct {
		col string
		v   any
	}{
		{"created_at", "02-03-2026"},
		{"created_at", ""}, // NOT NULL
		{"auto_created", int64(2)},
		{"relation_term_months", true},
	} {
		// A failed load aborts its transaction: one loader each.
		ld, err := s.Loader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ld.Load(ctx, "orgs", []string{"id", c.col}, seq([]any{"acme", c.v}))
		if objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("%s = %#v: %v", c.col, c.v, err)
		}
		ld.Close()
	}
}

// A store whose log has begun is not loaded into; a load that is not
// committed leaves the triggers as they were.
func TestLoaderRefusesStartedLog(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if err := s.SetWebhookTargets(ctx, []string{"https://x.example/h"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)
	if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", Number: "0612340000", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	ld, err := s.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ld.Commit(ctx); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("commit onto a started log: %v", err)
	}
	if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", Number: "0612340001", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.OutboxStats(ctx, []string{"https://x.example/h"}); st.Pending != 2 {
		t.Fatalf("outbox after a refused load: %+v", st)
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
// are read and written like the others; a list travels as a JSON array.
func TestLoaderDiscoversNewTablesAndColumns(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.Pool().Exec(ctx, `CREATE TABLE later (id text PRIMARY KEY, orgs text[] NOT NULL, flag boolean NOT NULL, n integer)`); err != nil {
		t.Fatal(err)
	}
	ld, err := s.Loader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ld.Columns(ctx, "later")
	if err != nil || strings.Join(cols, ",") != "id,orgs,flag,n" {
		t.Fatalf("columns = %v, %v", cols, err)
	}
	if _, err := ld.Load(ctx, "later", cols, seq([]any{"x", `["acme","beta"]`, int64(1), nil}, []any{"y", `[]`, int64(0), int64(5)})); err != nil {
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
	want := []string{`[]interface {}{"x", "[\"acme\",\"beta\"]", true, interface {}(nil)}`, `[]interface {}{"y", "[]", false, 5}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
