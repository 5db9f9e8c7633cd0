package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// The offer's life (docs/evidence.md): started in_progress, completed in
// place, or closed as interrupted when its instance stopped or another
// dialogue took the call over; every step an event of the chain.

// startOffer starts an offer of call on instance, as the IVR does.
func startOffer(t *testing.T, r *objections.Register, call, instance string) objections.Offer {
	t.Helper()
	o, created, err := r.StartOffer(context.Background(), objections.Offer{Org: "acme", Number: "0612345678", Provider: "ari",
		CallRef: call, PromptID: "offer", PromptVersion: "v1", Language: "nl", Instance: instance})
	if err != nil || !created {
		t.Fatalf("start offer: %v (created %v)", err, created)
	}
	return o
}

// eventKinds lists the kinds of the events about subject, in order.
func eventKinds(t *testing.T, s objections.Store, subject string) []objections.EventKind {
	t.Helper()
	var kinds []objections.EventKind
	all := must[[]objections.Event](t)(s.Events(context.Background(), 0, 1000))
	for _, e := range all {
		if e.SubjectID == subject {
			kinds = append(kinds, e.Kind)
		}
	}
	return kinds
}

func wantKinds(t *testing.T, got []objections.EventKind, want ...objections.EventKind) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("event kinds = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("event kinds = %v, want %v", got, want)
		}
	}
}

func verifyChain(t *testing.T, s objections.Store, want int64) {
	t.Helper()
	n, err := objections.VerifyChain(context.Background(), s)
	if err != nil || n != want {
		t.Fatalf("verify = %d, %v; want %d events", n, err, want)
	}
}

// An offer started in_progress is completed under the same id: the row
// holds the final record, the log both.
func testOfferStartedThenCompleted(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	started := startOffer(t, r, "c1", "inst-a")
	got := must[objections.Offer](t)(s.Offer(ctx, started.ID))
	if got.Outcome != objections.OutcomeInProgress || got.Instance != "inst-a" || got.PromptVersion != "v1" || got.PlayedMS != 0 ||
		!got.EndedAt.IsZero() || got.StartedAt.IsZero() || got.Number != "+31612345678" {
		t.Fatalf("started offer = %+v", got)
	}
	final := started
	final.Outcome, final.PlayedMS, final.EndedAt, final.EndedBy = objections.OutcomeDeclined, 3150, clk.Now(), objections.EndedBySystem
	final.Keys = []objections.Key{{Digit: "2", At: clk.Now()}}
	final.Instance = "" // the record keeps who started it
	rec, created, err := r.RecordOffer(ctx, final)
	if err != nil || !created || rec.ID != started.ID {
		t.Fatalf("complete offer = %+v created %v err %v", rec, created, err)
	}
	got = must[objections.Offer](t)(s.Offer(ctx, started.ID))
	if got.Outcome != objections.OutcomeDeclined || got.PlayedMS != 3150 || len(got.Keys) != 1 || got.Instance != "inst-a" || got.EndedAt.IsZero() {
		t.Fatalf("completed offer = %+v", got)
	}
	// Completing it again changes nothing: the record stands.
	again := final
	again.Outcome = objections.OutcomeNoInput
	rec, created, err = r.RecordOffer(ctx, again)
	if err != nil || created || rec.Outcome != objections.OutcomeDeclined {
		t.Fatalf("second completion = %+v created %v err %v", rec, created, err)
	}
	// So does starting it again.
	if rec, created, err := s.StartOffer(ctx, started); err != nil || created || rec.Outcome != objections.OutcomeDeclined {
		t.Fatalf("second start = %+v created %v err %v", rec, created, err)
	}
	wantKinds(t, eventKinds(t, s, started.ID), objections.EventOfferStarted, objections.EventOfferRecorded)
	verifyChain(t, s, 2)
	list := must[[]objections.Offer](t)(s.Offers(ctx, objections.OfferFilter{Org: "acme"}))
	if len(list) != 1 {
		t.Fatalf("offers = %+v", list)
	}
}

// A final record is never taken back to in_progress, and StartOffer takes
// nothing but in_progress.
func testOfferStartValidates(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	o := must[objections.Offer](t)(r.PrepareOffer(objections.Offer{Org: "acme", Provider: "ari", CallRef: "c1", Outcome: objections.OutcomeNoInput}))
	if _, _, err := s.StartOffer(ctx, o); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("start with a final outcome: %v", err)
	}
	o.Outcome = objections.OutcomeInProgress
	if _, _, err := s.RecordOffer(ctx, o); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("record in_progress: %v", err)
	}
	if _, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "c2", Outcome: objections.OutcomeNoInput,
		StartedAt: clk.Now(), Reason: string(make([]byte, objections.MaxReason+1))}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("reason too long: %v", err)
	}
}

// A call taken over: the second dialogue's start follows the first's
// record, which the stopped instance's interruption closes; the second's
// completion keeps the link. The chain verifies.
func testOfferTakenOver(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	a := startOffer(t, r, "c1", "inst-a")
	b := startOffer(t, r, "c1", "inst-b")
	if b.PreviousOfferID != a.ID || b.ID == a.ID {
		t.Fatalf("second offer = %+v, want it to follow %s", b, a.ID)
	}
	// The first stays in progress until its instance is known to have
	// stopped: two Asterisk nodes can give two live calls the same id.
	if got := must[objections.Offer](t)(s.Offer(ctx, a.ID)); got.Outcome != objections.OutcomeInProgress {
		t.Fatalf("first offer after the second started = %+v", got)
	}
	if closed, err := s.InterruptOffers(ctx, []string{"inst-a"}, "instance inst-a stopped", clk.Now()); err != nil || len(closed) != 1 {
		t.Fatalf("interrupt = %+v, %v", closed, err)
	}
	gotA := must[objections.Offer](t)(s.Offer(ctx, a.ID))
	if gotA.Outcome != objections.OutcomeInterrupted || gotA.Reason == "" || gotA.EndedAt.IsZero() || gotA.PlayedMS != 0 {
		t.Fatalf("first offer after the takeover = %+v", gotA)
	}
	final := b
	final.Outcome, final.EndedAt, final.PreviousOfferID = objections.OutcomeObjected, clk.Now(), ""
	final.Keys = []objections.Key{{Digit: "1", At: clk.Now()}}
	must[objections.Offer](t)(func() (objections.Offer, error) { o, _, err := r.RecordOffer(ctx, final); return o, err }())
	gotB := must[objections.Offer](t)(s.Offer(ctx, b.ID))
	if gotB.Outcome != objections.OutcomeObjected || gotB.PreviousOfferID != a.ID {
		t.Fatalf("second offer completed = %+v", gotB)
	}
	// A late completion of the first changes nothing: it was interrupted.
	late := a
	late.Outcome, late.EndedAt = objections.OutcomeNoInput, clk.Now()
	if rec, created, err := r.RecordOffer(ctx, late); err != nil || created || rec.Outcome != objections.OutcomeInterrupted {
		t.Fatalf("late completion of the first = %+v created %v err %v", rec, created, err)
	}
	wantKinds(t, eventKinds(t, s, a.ID), objections.EventOfferStarted, objections.EventOfferRecorded)
	wantKinds(t, eventKinds(t, s, b.ID), objections.EventOfferStarted, objections.EventOfferRecorded)
	verifyChain(t, s, 4)
	if got := must[objections.Offer](t)(s.Offer(ctx, b.ID)); got.ID != b.ID {
		t.Fatal(got)
	}
}

// InterruptOffers closes the in_progress offers of stopped instances, and
// only those; a dialogue that then takes the call over follows the
// interrupted one.
func testInterruptOffers(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	a1 := startOffer(t, r, "c1", "inst-a")
	a2 := startOffer(t, r, "c2", "inst-a")
	b1 := startOffer(t, r, "c3", "inst-b")
	at := clk.Now()
	closed, err := s.InterruptOffers(ctx, []string{"inst-a", "inst-x"}, "instance inst-a stopped", at)
	if err != nil || len(closed) != 2 {
		t.Fatalf("interrupt = %+v, %v", closed, err)
	}
	for _, id := range []string{a1.ID, a2.ID} {
		got := must[objections.Offer](t)(s.Offer(ctx, id))
		if got.Outcome != objections.OutcomeInterrupted || got.Reason != "instance inst-a stopped" || !got.EndedAt.Equal(objections.StoredTime(at)) {
			t.Fatalf("interrupted offer = %+v", got)
		}
	}
	if got := must[objections.Offer](t)(s.Offer(ctx, b1.ID)); got.Outcome != objections.OutcomeInProgress {
		t.Fatalf("live instance's offer = %+v", got)
	}
	if again, err := s.InterruptOffers(ctx, []string{"inst-a"}, "again", clk.Now()); err != nil || len(again) != 0 {
		t.Fatalf("second interrupt = %+v, %v", again, err)
	}
	if none, err := s.InterruptOffers(ctx, nil, "none", clk.Now()); err != nil || len(none) != 0 {
		t.Fatalf("interrupt of no instance = %+v, %v", none, err)
	}
	next := startOffer(t, r, "c1", "inst-b")
	if next.PreviousOfferID != a1.ID {
		t.Fatalf("offer after the interruption = %+v, want it to follow %s", next, a1.ID)
	}
	wantKinds(t, eventKinds(t, s, a1.ID), objections.EventOfferStarted, objections.EventOfferRecorded)
	verifyChain(t, s, 6)
	if byCall, ok := s.(interface {
		OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error)
	}); ok {
		if got := must[objections.Offer](t)(byCall.OfferByCallRef(ctx, "ari", "c1")); got.ID != next.ID {
			t.Fatalf("offer by call ref = %s, want the latest %s", got.ID, next.ID)
		}
	}
}

// A dialogue that ends without a start record (the store was away when it
// began) follows the call's latest offer when it comes from an instance
// no earlier offer of the call came from; the same record again, another
// from the same instance, or one without an instance, is a repeat.
func testOfferRecordFollows(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	a := startOffer(t, r, "c1", "inst-a")
	rec := func(instance string, previous string) (objections.Offer, bool) {
		t.Helper()
		o, created, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "c1", Outcome: objections.OutcomeNoInput,
			StartedAt: clk.Now(), Instance: instance, PreviousOfferID: previous})
		if err != nil {
			t.Fatal(err)
		}
		return o, created
	}
	b, created := rec("inst-b", "")
	if !created || b.PreviousOfferID != a.ID {
		t.Fatalf("record after an offer in progress = %+v created %v", b, created)
	}
	if got := must[objections.Offer](t)(s.Offer(ctx, a.ID)); got.Outcome != objections.OutcomeInProgress {
		t.Fatalf("offer in progress = %+v", got)
	}
	c, created := rec("inst-c", "")
	if !created || c.PreviousOfferID != b.ID {
		t.Fatalf("record from a third instance = %+v created %v", c, created)
	}
	if again, created := rec("inst-c", ""); created || again.ID != a.ID {
		t.Fatalf("repeat from the same instance = %+v created %v, want the call's first", again, created)
	}
	if again, created := rec("", ""); created || again.ID != a.ID {
		t.Fatalf("repeat without an instance = %+v created %v", again, created)
	}
	if again, created := rec("inst-d", c.PreviousOfferID); created || again.ID != c.ID {
		t.Fatalf("repeat naming its previous offer = %+v created %v", again, created)
	}
	verifyChain(t, s, 3)
}

// InstanceStore is the heartbeat of the instances on one store (the
// capability the ARI adapter's takeover uses).
type InstanceStore interface {
	Heartbeat(ctx context.Context, inst objections.Instance) error
	Instances(ctx context.Context) ([]objections.Instance, error)
	TakeOver(ctx context.Context, app, by string, cutoff time.Time) ([]objections.Instance, error)
}

// RunInstances runs the suite of InstanceStore against the store open
// returns.
func RunInstances(t *testing.T, open func(t *testing.T) InstanceStore) {
	suite[InstanceStore]{
		{"Heartbeat", testHeartbeat},
		{"TakeOverDeadApp", testTakeOver},
		{"TakeOverConcurrent", testTakeOverConcurrent},
	}.run(t, open)
}

func testHeartbeat(t *testing.T, s InstanceStore) {
	ctx := context.Background()
	a := objections.Instance{ID: "inst-a", App: "verzet-a", StartedAt: t0, LastSeen: t0}
	if err := s.Heartbeat(ctx, a); err != nil {
		t.Fatal(err)
	}
	a.LastSeen = t0.Add(time.Second)
	if err := s.Heartbeat(ctx, a); err != nil {
		t.Fatal(err)
	}
	// A late write does not move last_seen back.
	late := a
	late.LastSeen = t0.Add(500 * time.Millisecond)
	if err := s.Heartbeat(ctx, late); err != nil {
		t.Fatal(err)
	}
	list := must[[]objections.Instance](t)(s.Instances(ctx))
	if len(list) != 1 || list[0].ID != "inst-a" || list[0].App != "verzet-a" || !list[0].LastSeen.Equal(t0.Add(time.Second)) ||
		!list[0].StartedAt.Equal(t0) || list[0].TakenBy != "" {
		t.Fatalf("instances = %+v", list)
	}
	// A row gone for longer than the retention is removed by the next beat.
	b := objections.Instance{ID: "inst-b", StartedAt: t0, LastSeen: t0.Add(objections.InstanceRetention + 2*time.Second)}
	if err := s.Heartbeat(ctx, b); err != nil {
		t.Fatal(err)
	}
	if list := must[[]objections.Instance](t)(s.Instances(ctx)); len(list) != 1 || list[0].ID != "inst-b" {
		t.Fatalf("instances after the retention = %+v", list)
	}
	if err := s.Heartbeat(ctx, objections.Instance{ID: " ", StartedAt: t0, LastSeen: t0}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("empty id: %v", err)
	}
}

func testTakeOver(t *testing.T, s InstanceStore) {
	ctx := context.Background()
	beat := func(id, app string, at time.Time) {
		t.Helper()
		if err := s.Heartbeat(ctx, objections.Instance{ID: id, App: app, StartedAt: t0, LastSeen: at}); err != nil {
			t.Fatal(err)
		}
	}
	beat("a1", "verzet-a", t0)                     // stopped
	beat("b1", "verzet-b", t0.Add(10*time.Second)) // live
	beat("c1", "verzet-c", t0.Add(10*time.Second)) // live
	cutoff := t0.Add(7 * time.Second)
	got := must[[]objections.Instance](t)(s.TakeOver(ctx, "verzet-a", "b1", cutoff))
	if len(got) != 1 || got[0].ID != "a1" || got[0].TakenBy != "b1" {
		t.Fatalf("take over = %+v", got)
	}
	// Another live instance does not get it; the holder renews it.
	if got := must[[]objections.Instance](t)(s.TakeOver(ctx, "verzet-a", "c1", cutoff)); len(got) != 0 {
		t.Fatalf("second taker got %+v", got)
	}
	if got := must[[]objections.Instance](t)(s.TakeOver(ctx, "verzet-a", "b1", cutoff)); len(got) != 1 {
		t.Fatalf("renewal = %+v", got)
	}
	// A live app is not taken over, even with stopped instances of it.
	beat("b0", "verzet-b", t0)
	if got := must[[]objections.Instance](t)(s.TakeOver(ctx, "verzet-b", "c1", cutoff)); len(got) != 0 {
		t.Fatalf("live app taken over: %+v", got)
	}
	// When the holder stops too, another live instance takes it.
	cutoff = t0.Add(17 * time.Second)
	beat("c1", "verzet-c", t0.Add(20*time.Second))
	got = must[[]objections.Instance](t)(s.TakeOver(ctx, "verzet-a", "c1", cutoff))
	if len(got) != 1 || got[0].TakenBy != "c1" {
		t.Fatalf("take over from a stopped holder = %+v", got)
	}
	// An app that comes back (a restarted instance) is alive again.
	beat("a2", "verzet-a", t0.Add(20*time.Second))
	if got := must[[]objections.Instance](t)(s.TakeOver(ctx, "verzet-a", "c1", cutoff)); len(got) != 0 {
		t.Fatalf("restarted app taken over: %+v", got)
	}
}

// Instances asking at once: one gets the stopped app.
func testTakeOverConcurrent(t *testing.T, s InstanceStore) {
	ctx := context.Background()
	if err := s.Heartbeat(ctx, objections.Instance{ID: "a1", App: "verzet-a", StartedAt: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	takers := []string{"b1", "c1", "d1", "e1"}
	for _, id := range takers {
		if err := s.Heartbeat(ctx, objections.Instance{ID: id, App: "verzet-" + id, StartedAt: t0, LastSeen: t0.Add(10 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan int, len(takers))
	for _, id := range takers {
		go func() {
			list, err := s.TakeOver(ctx, "verzet-a", id, t0.Add(7*time.Second))
			if err != nil {
				t.Error(err)
			}
			got <- len(list)
		}()
	}
	won := 0
	for range takers {
		won += <-got
	}
	if won != 1 {
		t.Fatalf("%d instances took the stopped app over, want 1", won)
	}
}
