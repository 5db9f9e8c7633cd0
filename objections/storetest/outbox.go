package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// OutboxStore is the register with its transactional outbox of webhook
// deliveries (migration 005), as objections/httpapi's relay uses it.
type OutboxStore interface {
	objections.Store
	SetWebhookTargets(ctx context.Context, urls []string, now time.Time) error
	ClaimDeliveries(ctx context.Context, targets []string, now time.Time, lease time.Duration, limit int) ([]objections.Delivery, error)
	AckDelivery(ctx context.Context, id int64, now time.Time) error
	RetryDelivery(ctx context.Context, d objections.Delivery, next time.Time, lastError string) error
	OutboxStats(ctx context.Context, targets []string) (objections.OutboxStats, error)
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)
}

// RunOutbox runs the suite of the outbox against the store open returns.
func RunOutbox(t *testing.T, open func(t *testing.T) OutboxStore) {
	suite[OutboxStore]{
		{"OutboxWrittenWithTheRecord", testOutboxWritten},
		{"OutboxOrderPerKey", testOutboxOrder},
		{"OutboxLeaseAndRetry", testOutboxLease},
		{"OutboxTargets", testOutboxTargets},
		{"OutboxStatsAndPrune", testOutboxStatsPrune},
	}.run(t, open)
}

const lease = time.Minute

// claim claims every due head of targets at now.
func claim(t *testing.T, s OutboxStore, now time.Time, targets ...string) []objections.Delivery {
	t.Helper()
	ds, err := s.ClaimDeliveries(context.Background(), targets, now, lease, 100)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return ds
}

// events renders deliveries as "target event_id" lines for comparison.
func events(ds []objections.Delivery) string {
	var s string
	for _, d := range ds {
		s += d.Target + " " + d.EventID + "\n"
	}
	return s
}

func ack(t *testing.T, s OutboxStore, now time.Time, ds ...objections.Delivery) {
	t.Helper()
	for _, d := range ds {
		if err := s.AckDelivery(context.Background(), d.ID, now); err != nil {
			t.Fatalf("ack %d: %v", d.ID, err)
		}
	}
}

// The outbox row is written by the store in the objection's own
// transaction: a recorded objection has its delivery, a repeat adds none,
// a void adds one.
func testOutboxWritten(t *testing.T, s OutboxStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	if err := s.SetWebhookTargets(ctx, []string{"http://a"}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if _, created := record(t, r, objections.Objection{Org: "acme", RawNumber: "+31612345678", Source: objections.SourceEmail}); created {
		t.Fatal("repeat created a second objection")
	}
	pending, _ := record(t, r, objections.Objection{Org: "acme", Source: objections.SourceAgent, LeadRef: "lead-9"})
	ds := claim(t, s, clk.Now(), "http://a")
	want := fmt.Sprintf("http://a %s.recorded\nhttp://a %s.recorded\n", o.ID, pending.ID)
	if events(ds) != want {
		t.Fatalf("deliveries = %q, want %q", events(ds), want)
	}
	d := ds[0]
	if d.Kind != objections.EventObjectionRecorded || d.ObjectionID != o.ID || d.Org != "acme" ||
		d.Key != "acme/+31612345678" || !d.At.Equal(o.ReceivedAt) || d.Attempts != 0 || d.Lease == "" {
		t.Fatalf("delivery = %+v", d)
	}
	if ds[1].Key != "acme/objection:"+pending.ID {
		t.Fatalf("pending objection key = %q", ds[1].Key)
	}
	ack(t, s, clk.Now(), ds...)
	v := must[objections.Objection](t)(r.Void(ctx, o.ID, "admin", "wrong number"))
	ds = claim(t, s, clk.Now(), "http://a")
	if events(ds) != "http://a "+o.ID+".voided\n" || ds[0].Kind != objections.EventObjectionVoided ||
		!ds[0].At.Equal(v.Void.At) || ds[0].Key != "acme/+31612345678" {
		t.Fatalf("void deliveries = %+v", ds)
	}
	// A failed write leaves no delivery behind.
	if _, err := r.Void(ctx, o.ID, "admin", "again"); objections.ErrorCode(err) != objections.ECONFLICT {
		t.Fatalf("second void: %v", err)
	}
	ack(t, s, clk.Now(), ds...)
	if ds := claim(t, s, clk.Now().Add(time.Hour), "http://a"); len(ds) != 0 {
		t.Fatalf("left after ack: %+v", ds)
	}
}

// Only the oldest undelivered event of a key is handed out; other keys are
// not held up.
func testOutboxOrder(t *testing.T, s OutboxStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	if err := s.SetWebhookTargets(ctx, []string{"http://a"}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	a1, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345601", Source: objections.SourceAgent})
	must[objections.Objection](t)(r.Void(ctx, a1.ID, "admin", "x"))
	a2, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345601", Source: objections.SourceAgent})
	b1, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345602", Source: objections.SourceAgent})
	c1, _ := record(t, r, objections.Objection{Org: "beta", RawNumber: "0612345601", Source: objections.SourceAgent})

	var got []string
	for round := 0; round < 5; round++ {
		ds := claim(t, s, clk.Now(), "http://a")
		keys := map[string]bool{}
		for _, d := range ds {
			if keys[d.Key] {
				t.Fatalf("round %d: two deliveries of key %s at once", round, d.Key)
			}
			keys[d.Key] = true
			got = append(got, d.EventID)
		}
		ack(t, s, clk.Now(), ds...)
	}
	want := []string{a1.ID + ".recorded", b1.ID + ".recorded", c1.ID + ".recorded", a1.ID + ".voided", a2.ID + ".recorded"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivery order = %v, want %v", got, want)
	}
}

// A leased delivery is not handed out again until its lease runs out; a
// failed one waits for its retry time and holds back its key meanwhile.
func testOutboxLease(t *testing.T, s OutboxStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	if err := s.SetWebhookTargets(ctx, []string{"http://a"}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	must[objections.Objection](t)(r.Void(ctx, o.ID, "admin", "x"))
	now := clk.Now()
	first := claim(t, s, now, "http://a")
	if len(first) != 1 {
		t.Fatalf("first claim = %+v", first)
	}
	if ds := claim(t, s, now.Add(time.Second), "http://a"); len(ds) != 0 {
		t.Fatalf("claimed while leased: %+v", ds)
	}
	// The lease ran out (the claimer died): the next claim gets it again.
	again := claim(t, s, now.Add(lease+time.Second), "http://a")
	if len(again) != 1 || again[0].ID != first[0].ID || again[0].Lease == first[0].Lease {
		t.Fatalf("claim after lease = %+v (first %+v)", again, first)
	}
	// The first claimer's late failure does not touch the new lease.
	if err := s.RetryDelivery(ctx, first[0], now.Add(time.Hour), "late"); err != nil {
		t.Fatal(err)
	}
	t2 := now.Add(lease + 2*time.Second)
	if err := s.RetryDelivery(ctx, again[0], t2.Add(10*time.Second), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	if ds := claim(t, s, t2, "http://a"); len(ds) != 0 {
		t.Fatalf("claimed before its retry time (or the void overtook it): %+v", ds)
	}
	ds := claim(t, s, t2.Add(10*time.Second), "http://a")
	if len(ds) != 1 || ds[0].ID != first[0].ID || ds[0].Attempts != 1 {
		t.Fatalf("retry = %+v", ds)
	}
	ack(t, s, t2, ds...)
	ds = claim(t, s, t2.Add(11*time.Second), "http://a")
	if len(ds) != 1 || ds[0].Kind != objections.EventObjectionVoided {
		t.Fatalf("after ack = %+v", ds)
	}
}

// Each active target gets its own delivery; an inactive one gets none for
// new events and keeps what it had.
func testOutboxTargets(t *testing.T, s OutboxStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345600", Source: objections.SourceAgent})
	if ds := claim(t, s, clk.Now(), "http://a"); len(ds) != 0 {
		t.Fatalf("delivery without targets: %+v", ds)
	}
	if err := s.SetWebhookTargets(ctx, []string{"http://a", "http://b"}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	o1, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345601", Source: objections.SourceAgent})
	if err := s.SetWebhookTargets(ctx, []string{"http://b", "http://c"}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetWebhookTargets(ctx, []string{"http://b", "http://c"}, clk.Now()); err != nil {
		t.Fatal(err) // idempotent: every instance syncs at start
	}
	o2, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345602", Source: objections.SourceAgent})
	got := events(claim(t, s, clk.Now(), "http://a", "http://b", "http://c"))
	want := fmt.Sprintf("http://a %[1]s.recorded\nhttp://b %[1]s.recorded\nhttp://b %[2]s.recorded\nhttp://c %[2]s.recorded\n", o1.ID, o2.ID)
	if got != want {
		t.Fatalf("deliveries = %q, want %q", got, want)
	}
}

func testOutboxStatsPrune(t *testing.T, s OutboxStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	if err := s.SetWebhookTargets(ctx, []string{"http://a"}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	st := must[objections.OutboxStats](t)(s.OutboxStats(ctx, []string{"http://a"}))
	if st.Pending != 0 || !st.Oldest.IsZero() {
		t.Fatalf("empty stats = %+v", st)
	}
	o1, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345601", Source: objections.SourceAgent})
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345602", Source: objections.SourceAgent})
	st = must[objections.OutboxStats](t)(s.OutboxStats(ctx, []string{"http://a"}))
	if st.Pending != 2 || !st.Oldest.Equal(o1.ReceivedAt) {
		t.Fatalf("stats = %+v, want 2 from %v", st, o1.ReceivedAt)
	}
	ds := claim(t, s, clk.Now(), "http://a")
	delivered := clk.Now()
	ack(t, s, delivered, ds[0])
	st = must[objections.OutboxStats](t)(s.OutboxStats(ctx, []string{"http://a"}))
	if st.Pending != 1 || st.Oldest.Equal(o1.ReceivedAt) {
		t.Fatalf("stats after ack = %+v", st)
	}
	if n := must[int64](t)(s.PruneDeliveries(ctx, delivered, 100)); n != 0 {
		t.Fatalf("pruned %d delivered at the cut-off", n)
	}
	if n := must[int64](t)(s.PruneDeliveries(ctx, delivered.Add(time.Second), 100)); n != 1 {
		t.Fatalf("pruned %d, want 1 (undelivered ones stay)", n)
	}
	st = must[objections.OutboxStats](t)(s.OutboxStats(ctx, []string{"http://a"}))
	if st.Pending != 1 {
		t.Fatalf("stats after prune = %+v", st)
	}
}
