package spool

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/sqlite"
)

// These tests replay into the real embedded store, whose repeat detection
// is what turns the spool's at-least-once delivery into exactly once.

func mustStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate store: %v", err)
	}
	return st
}

// countingTarget counts what its store created and what it recognised as
// a repeat.
type countingTarget struct {
	Target
	created, repeats int
}

func (c *countingTarget) count(created bool) {
	if created {
		c.created++
	} else {
		c.repeats++
	}
}

func (c *countingTarget) RecordObjection(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	rec, created, err := c.Target.RecordObjection(ctx, o)
	if err == nil {
		c.count(created)
	}
	return rec, created, err
}

func (c *countingTarget) RecordOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	rec, created, err := c.Target.RecordOffer(ctx, o)
	if err == nil {
		c.count(created)
	}
	return rec, created, err
}

// preparedObjection is testObjection(i) put through Prepare, as the
// Register hands it to the store.
func preparedObjection(t *testing.T, i int) objections.Objection {
	t.Helper()
	o := testObjection(i)
	o.Number = ""
	if err := o.Prepare(objections.Numbers{Region: "NL"}); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSQLiteExactlyOnce(t *testing.T) {
	const n = 10
	ctx := context.Background()
	store := mustStore(t, filepath.Join(t.TempDir(), "verzet.db"))
	s := mustOpen(t, "")
	spooled := map[string]objections.Objection{}
	for i := range n {
		o := preparedObjection(t, i)
		spooled[o.ID] = o
		if err := s.AppendObjection(o); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendOffer(testOffer(i, o.ID)); err != nil {
			t.Fatal(err)
		}
	}
	// The spool before any replay: what a crash between the store's commit
	// and the done marker leaves on disk.
	before := copyDir(t, s.Dir())

	replays := []struct {
		name                   string
		spool                  *Spool
		wantCreated, wantRepes int
	}{
		{"first replay", s, 2 * n, 0},
		{"replayed again after a crash", mustOpen(t, copyDir(t, before)), 0, 2 * n},
		{"and once more", mustOpen(t, copyDir(t, before)), 0, 2 * n},
	}
	for _, r := range replays {
		tgt := &countingTarget{Target: store}
		got, err := r.spool.Replay(ctx, tgt)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if got != 2*n || tgt.created != r.wantCreated || tgt.repeats != r.wantRepes {
			t.Errorf("%s: delivered %d, created %d, repeats %d; want %d, %d, %d",
				r.name, got, tgt.created, tgt.repeats, 2*n, r.wantCreated, r.wantRepes)
		}
	}

	recs, err := store.Objections(ctx, objections.ObjectionFilter{Org: "acme", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("store holds %d objections, want %d", len(recs), n)
	}
	for _, rec := range recs {
		want, ok := spooled[rec.ID]
		if !ok {
			t.Errorf("store holds objection %s, which was not spooled", rec.ID)
			continue
		}
		if !rec.ReceivedAt.Equal(want.ReceivedAt) || rec.Number != want.Number || rec.CallRef != want.CallRef {
			t.Errorf("stored %s: received %v, number %s, call %s; spooled %v, %s, %s", rec.ID,
				rec.ReceivedAt, rec.Number, rec.CallRef, want.ReceivedAt, want.Number, want.CallRef)
		}
	}
	offers, err := store.Offers(ctx, objections.OfferFilter{Org: "acme", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(offers) != n {
		t.Errorf("store holds %d offers, want %d", len(offers), n)
	}
}

func TestSQLiteCrashDuringReplay(t *testing.T) {
	// A child process replays into the store and dies right after the
	// store committed entry crashAt, before the spool marked it done. The
	// last checkpoint was at entry 64, so entries 65…crashAt go to the
	// store a second time, which records nothing new.
	const (
		n       = 150
		crashAt = 100
	)
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "verzet.db")
	store := mustStore(t, db)
	dir := t.TempDir()
	s := mustOpen(t, dir)
	for i := range n {
		if err := s.AppendObjection(preparedObjection(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	cmd := child(t, "replay-crash", dir, crashAt, childDBEnv+"="+db)
	cmd.Stderr = &stderr
	wantCrash(t, cmd.Run(), stderr.Bytes())

	s = mustOpen(t, dir)
	if got, want := s.Pending(), n-checkpointEvery; got != want {
		t.Errorf("Pending after the crash = %d, want %d", got, want)
	}
	tgt := &countingTarget{Target: store}
	if _, err := s.Replay(ctx, tgt); err != nil {
		t.Fatal(err)
	}
	if tgt.created != n-crashAt || tgt.repeats != crashAt-checkpointEvery {
		t.Errorf("second replay created %d, repeats %d; want %d, %d", tgt.created, tgt.repeats, n-crashAt, crashAt-checkpointEvery)
	}
	recs, err := store.Objections(ctx, objections.ObjectionFilter{Org: "acme", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Errorf("store holds %d objections, want exactly %d", len(recs), n)
	}
}
