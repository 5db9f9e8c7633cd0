package ivr_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/ivr/ivrtest"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/spool"
)

// A key press during a store outage goes to the real spool; the process
// "crashes" before any replay; after the restart the spool is replayed (twice,
// as after a second crash) and the provider retries the call: the store ends
// with exactly one objection, the one the caller made, with its original time.
func TestStoreOutageCrashReplayExactlyOnce(t *testing.T) {
	r := newRig(t)
	dir := filepath.Join(t.TempDir(), "spool")
	sp, err := spool.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.rec.SetFail(func() error { return objections.Unavailable("store", errors.New("connection refused")) })
	keeper := ivr.NewKeeper(r.rec, sp, zaptest.NewLogger(t), nil)
	d := ivr.NewDialogue(keeper, r.catalog, zaptest.NewLogger(t), nil)
	var pressedAt time.Time
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		done := make(chan ivr.State, 1)
		go func() { done <- d.Run(t.Context(), call, ivr.NewMachine(ivr.DefaultFlow(), callCtx)) }()
		time.Sleep(time.Second)
		pressedAt = time.Now()
		call.Press("1")
		if s := <-done; s.Outcome != objections.OutcomeObjected || !s.Spooled {
			t.Fatalf("state = %+v", s)
		}
	})
	if len(r.objectionsFor(t)) != 0 {
		t.Fatal("the store was down but has an objection")
	}
	// Crash: the spool is left as it is on disk.
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	r.rec.SetFail(nil)
	for i := 0; i < 2; i++ {
		sp, err = spool.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sp.Replay(context.Background(), r.store); err != nil {
			t.Fatalf("replay %d: %v", i, err)
		}
		sp.Close()
	}
	// The provider retries the webhook of the same call.
	m := ivr.NewMachine(ivr.DefaultFlow(), callCtx)
	s, _ := d.Turn(context.Background(), m, ivr.State{}, ivr.Event{Kind: ivr.EvStart, At: time.Now()})
	d.Turn(context.Background(), m, s, ivr.Event{Kind: ivr.EvDigit, At: time.Now(), Digit: "1"})

	objs := r.objectionsFor(t)
	if len(objs) != 1 {
		t.Fatalf("%d objections after replay and retry, want exactly 1", len(objs))
	}
	if objs[0].ReceivedAt.Sub(pressedAt).Abs() > time.Second || objs[0].CallRef != callCtx.CallRef {
		t.Fatalf("objection = %+v; want the one made at the key press (%v)", objs[0], pressedAt)
	}
	if offers := r.offers(t); len(offers) < 1 || offers[0].Outcome != objections.OutcomeObjected {
		t.Fatalf("offers = %+v", offers)
	}
}
