package ivr_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/ivr/ivrtest"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/prompts"
)

type rig struct {
	store    *sqlite.Store
	reg      *objections.Register
	rec      *ivrtest.Recorder
	spool    *memSpool
	catalog  *prompts.Catalog
	dialogue *ivr.Dialogue
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cat, err := prompts.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := objections.NewRegister(st, objections.Numbers{Region: "NL"}, nil)
	rec := &ivrtest.Recorder{Recorder: reg}
	sp := &memSpool{}
	keeper := ivr.NewKeeper(rec, sp, zaptest.NewLogger(t), nil)
	return &rig{store: st, reg: reg, rec: rec, spool: sp, catalog: cat, dialogue: ivr.NewDialogue(keeper, cat, zaptest.NewLogger(t), nil)}
}

// memSpool is an in-memory ivr.Spool; the durable one is tested in
// objections/spool and together with the dialogue below.
type memSpool struct {
	mu         sync.Mutex
	objections []objections.Objection
	offers     []objections.Offer
	fail       error
}

func (s *memSpool) AppendObjection(o objections.Objection) error {
	return spoolAppend(s, &s.objections, o)
}

func (s *memSpool) AppendOffer(o objections.Offer) error { return spoolAppend(s, &s.offers, o) }

func spoolAppend[T any](s *memSpool, list *[]T, v T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	*list = append(*list, v)
	return nil
}

var callCtx = ivr.Context{Org: "acme", Number: "06 1234 5678", PresentedNumber: "020 123 4567", Language: "nl",
	Provider: "ari", CallRef: "1700000000.42", CampaignRef: "spring", LeadRef: "lead-9", Announced: true}

func (r *rig) duration(t *testing.T, id prompts.ID) time.Duration {
	pb, err := r.catalog.Compose("nl", id, prompts.Vars{OrgID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(pb.DurationMS) * time.Millisecond
}

func (r *rig) offers(t *testing.T) []objections.Offer {
	t.Helper()
	list, err := r.store.Offers(context.Background(), objections.OfferFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func (r *rig) objectionsFor(t *testing.T) []objections.Objection {
	t.Helper()
	list, err := r.store.Objections(context.Background(), objections.ObjectionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// run starts the dialogue on a fake call inside the synctest bubble.
func (r *rig) run(ctx context.Context, call *ivrtest.Call, flow ivr.Flow) <-chan ivr.State {
	out := make(chan ivr.State, 1)
	go func() { out <- r.dialogue.Run(ctx, call, ivr.NewMachine(flow, callCtx)) }()
	return out
}

func TestRunBargeInObjects(t *testing.T) {
	r := newRig(t)
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		durableBeforeConfirm := false
		call.PlayErr = func(id prompts.ID) error {
			if id == prompts.Confirm {
				durableBeforeConfirm = len(r.objectionsFor(t)) == 1
			}
			return nil
		}
		done := r.run(t.Context(), call, ivr.DefaultFlow())
		time.Sleep(1500 * time.Millisecond)
		call.Press("1")
		s := <-done
		if s.Outcome != objections.OutcomeObjected || !durableBeforeConfirm || !call.HungUpBySystem() {
			t.Fatalf("outcome %s, durable before confirm %v, hung up %v", s.Outcome, durableBeforeConfirm, call.HungUpBySystem())
		}
		played := call.Played()
		if len(played) != 2 || played[0].ID != prompts.Offer || !played[0].Stopped || played[0].MS != 1500 || played[1].ID != prompts.Confirm || played[1].Stopped {
			t.Fatalf("played = %+v", played)
		}
	})
	objs := r.objectionsFor(t)
	offers := r.offers(t)
	if len(objs) != 1 || objs[0].Number != "+31612345678" || objs[0].Source != objections.SourceIVRARI || objs[0].CallRef != callCtx.CallRef || objs[0].CampaignRef != "spring" {
		t.Fatalf("objections = %+v", objs)
	}
	if len(offers) != 1 {
		t.Fatalf("offers = %+v", offers)
	}
	o := offers[0]
	p, _ := r.catalog.Get("nl", prompts.Offer)
	if o.Outcome != objections.OutcomeObjected || o.PlayedMS != 1500 || !o.BargeIn || !o.Announced || o.PromptVersion != p.Version || o.PromptHash == "" ||
		o.Language != "nl" || len(o.Keys) != 1 || o.Keys[0].Digit != "1" || o.ObjectionID != objs[0].ID || objs[0].OfferID != o.ID || o.PresentedNumber != "+31201234567" {
		t.Fatalf("offer = %+v", o)
	}
}

func TestRunNoInputRepeatsOnceThenGoodbye(t *testing.T) {
	r := newRig(t)
	offer, repeat, goodbye := r.duration(t, prompts.Offer), r.duration(t, prompts.Repeat), r.duration(t, prompts.Goodbye)
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		start := time.Now()
		s := <-r.run(t.Context(), call, ivr.DefaultFlow())
		took := time.Since(start)
		want := offer + 6*time.Second + repeat + offer + 6*time.Second + goodbye
		if s.Outcome != objections.OutcomeNoInput || took != want {
			t.Fatalf("outcome %s after %v; want no_input after %v", s.Outcome, took, want)
		}
		if ids := call.PlayedIDs(); len(ids) != 4 || ids[0] != prompts.Offer || ids[1] != prompts.Repeat || ids[2] != prompts.Offer || ids[3] != prompts.Goodbye {
			t.Fatalf("played %v", ids)
		}
	})
	if len(r.objectionsFor(t)) != 0 {
		t.Fatal("no_input recorded an objection")
	}
	if o := r.offers(t); len(o) != 1 || o[0].Outcome != objections.OutcomeNoInput || o[0].PlayedMS != 2*offer.Milliseconds() {
		t.Fatalf("offers = %+v", o)
	}
}

func TestRunHangupDuringOffer(t *testing.T) {
	r := newRig(t)
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		done := r.run(t.Context(), call, ivr.DefaultFlow())
		time.Sleep(2 * time.Second)
		call.HangUp()
		s := <-done
		if s.Outcome != objections.OutcomeHangupDuringPrompt || s.OfferMS != 2000 || s.EndedBy != objections.EndedByCaller {
			t.Fatalf("state = %+v", s)
		}
	})
	if o := r.offers(t); len(o) != 1 || o[0].Outcome != objections.OutcomeHangupDuringPrompt || o[0].PlayedMS != 2000 || o[0].EndedBy != "caller" {
		t.Fatalf("offers = %+v", o)
	}
}

func TestRunKeyThenImmediateHangupStillRecords(t *testing.T) {
	r := newRig(t)
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		done := r.run(t.Context(), call, ivr.DefaultFlow())
		time.Sleep(time.Second)
		call.Press("1")
		call.HangUp()
		s := <-done
		if s.Outcome != objections.OutcomeObjected {
			t.Fatalf("outcome %s", s.Outcome)
		}
	})
	if objs := r.objectionsFor(t); len(objs) != 1 {
		t.Fatalf("objections = %+v", objs)
	}
}

func TestRunStoreDownSpoolsAndConfirms(t *testing.T) {
	r := newRig(t)
	r.rec.SetFail(func() error { return objections.Unavailable("store", errors.New("connection refused")) })
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		done := r.run(t.Context(), call, ivr.DefaultFlow())
		time.Sleep(time.Second)
		call.Press("1")
		s := <-done
		if s.Outcome != objections.OutcomeObjected || !s.Spooled {
			t.Fatalf("state = %+v", s)
		}
		if ids := call.PlayedIDs(); len(ids) != 2 || ids[1] != prompts.Confirm {
			t.Fatalf("played %v: the caller must hear the confirmation", ids)
		}
	})
	if len(r.spool.objections) != 1 || len(r.spool.offers) != 1 || len(r.objectionsFor(t)) != 0 {
		t.Fatalf("spool %d/%d, store %d", len(r.spool.objections), len(r.spool.offers), len(r.objectionsFor(t)))
	}
	st := r.dialogue.Keeper().Stats()
	if st.StoreFailures.Load() != 1 || st.Spooled.Load() != 1 || st.Lost.Load() != 0 {
		t.Fatalf("stats: failures %d spooled %d lost %d", st.StoreFailures.Load(), st.Spooled.Load(), st.Lost.Load())
	}
	// Once the store is back, the spooled record is the same objection.
	r.rec.SetFail(nil)
	o := r.spool.objections[0]
	got, created, err := r.reg.Commit(context.Background(), o)
	if err != nil || !created || got.ID != o.ID || !got.ReceivedAt.Equal(o.ReceivedAt) {
		t.Fatalf("replay: %+v %v %v", got, created, err)
	}
}

func TestRunStoreAndSpoolDownApologises(t *testing.T) {
	r := newRig(t)
	r.rec.SetFail(func() error { return objections.Unavailable("store", errors.New("down")) })
	r.spool.fail = errors.New("disk full")
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		done := r.run(t.Context(), call, ivr.DefaultFlow())
		time.Sleep(time.Second)
		call.Press("1")
		s := <-done
		if s.Outcome != objections.OutcomeError {
			t.Fatalf("outcome %s", s.Outcome)
		}
		if ids := call.PlayedIDs(); len(ids) != 2 || ids[1] != prompts.Sorry {
			t.Fatalf("played %v", ids)
		}
	})
	if r.dialogue.Keeper().Stats().Lost.Load() != 1 {
		t.Fatal("lost key press not counted")
	}
}

func TestRunContinueLeavesTheCallToTheDialplan(t *testing.T) {
	r := newRig(t)
	flow := ivr.DefaultFlow()
	flow.Continue = true
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		done := r.run(t.Context(), call, flow)
		time.Sleep(500 * time.Millisecond)
		call.Press("2")
		s := <-done
		if s.Outcome != objections.OutcomeDeclined || !call.Continued() || call.HungUpBySystem() {
			t.Fatalf("outcome %s continued %v hung up %v", s.Outcome, call.Continued(), call.HungUpBySystem())
		}
	})
}

func TestRunShutdownEndsTheCall(t *testing.T) {
	r := newRig(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		call := ivrtest.NewCall()
		done := r.run(ctx, call, ivr.DefaultFlow())
		time.Sleep(time.Second)
		cancel()
		s := <-done
		if s.Outcome != objections.OutcomeHangupDuringPrompt || s.EndedBy != objections.EndedBySystem || !call.HungUpBySystem() {
			t.Fatalf("state = %+v", s)
		}
	})
}

func TestTurnForWebhooks(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m := ivr.NewMachine(ivr.DefaultFlow(), ivr.Context{Org: "acme", Number: "+31612345678", Language: "nl", Provider: "twilio", CallRef: "CA1"})
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	// First webhook: the offer inside a gather.
	s, reply := r.dialogue.Turn(ctx, m, ivr.State{}, ivr.Event{Kind: ivr.EvStart, At: now})
	if len(reply.Plays) != 1 || reply.Plays[0].ID != prompts.Offer || !reply.Gather || reply.Timeout != 6*time.Second || reply.Hangup {
		t.Fatalf("first reply = %+v", reply)
	}
	// An invalid key: "not valid", then the offer again, gathered.
	s, reply = r.dialogue.Turn(ctx, m, s, ivr.Event{Kind: ivr.EvDigit, At: now.Add(3 * time.Second), Digit: "7"},
		ivr.Event{Kind: ivr.EvPromptEnded, At: now.Add(3 * time.Second), Prompt: prompts.Offer, PlayedMS: 3000})
	if len(reply.Plays) != 2 || reply.Plays[0].ID != prompts.Invalid || reply.Plays[1].ID != prompts.Offer || !reply.Gather {
		t.Fatalf("invalid reply = %+v", reply)
	}
	// The objection key: recorded before the confirmation is returned.
	s, reply = r.dialogue.Turn(ctx, m, s, ivr.Event{Kind: ivr.EvDigit, At: now.Add(6 * time.Second), Digit: "1"})
	if len(reply.Plays) != 1 || reply.Plays[0].ID != prompts.Confirm || reply.Gather || !reply.Hangup || s.Phase != ivr.PhaseDone {
		t.Fatalf("objection reply = %+v state %+v", reply, s)
	}
	if objs := r.objectionsFor(t); len(objs) != 1 || objs[0].Source != objections.SourceIVRTwilio {
		t.Fatalf("objections = %+v", objs)
	}
	if o := r.offers(t); len(o) != 1 || o[0].Outcome != objections.OutcomeObjected || len(o[0].Keys) != 2 {
		t.Fatalf("offers = %+v", o)
	}
	// A retried webhook after the end answers nothing new and records nothing twice.
	_, reply = r.dialogue.Turn(ctx, m, s, ivr.Event{Kind: ivr.EvDigit, At: now.Add(6 * time.Second), Digit: "1"})
	if len(reply.Plays) != 0 || len(r.objectionsFor(t)) != 1 {
		t.Fatalf("retry reply = %+v", reply)
	}
}

// A key and the hang-up arriving together: the key wins, whatever order the
// runner sees them in.
func TestRunKeyAndHangupTogether(t *testing.T) {
	r := newRig(t)
	for i := 0; i < 20; i++ {
		synctest.Test(t, func(t *testing.T) {
			call := ivrtest.NewCall()
			m := ivr.NewMachine(ivr.DefaultFlow(), ivr.Context{Org: "acme", Number: fmt.Sprintf("06123456%02d", i), Language: "nl", Provider: "ari", CallRef: fmt.Sprintf("together-%d", i)})
			done := make(chan ivr.State, 1)
			go func() { done <- r.dialogue.Run(t.Context(), call, m) }()
			time.Sleep(time.Second)
			synctest.Wait()
			call.Press("1")
			call.HangUp()
			if s := <-done; s.Outcome != objections.OutcomeObjected {
				t.Fatalf("round %d: outcome %s, want objected", i, s.Outcome)
			}
		})
	}
	if n := len(r.objectionsFor(t)); n != 20 {
		t.Fatalf("%d objections, want 20", n)
	}
}

// reportingCall is a call whose provider reports how much of a prompt cut
// short by the hang-up was heard (as Asterisk's PlaybackFinished does),
// which differs from the time that passed on this side.
type reportingCall struct {
	*ivrtest.Call
	heardMS int64
}

func (c *reportingCall) Play(ctx context.Context, pb prompts.Playback) (int64, error) {
	ms, err := c.Call.Play(ctx, pb)
	if errors.Is(err, ivrtest.ErrHungUp) {
		return c.heardMS, err
	}
	return ms, err
}

// On a hang-up during the offer the evidence takes the played time the
// provider reported, not the dialogue's own clock.
func TestRunHangupTakesTheReportedPlayedTime(t *testing.T) {
	r := newRig(t)
	synctest.Test(t, func(t *testing.T) {
		call := &reportingCall{Call: ivrtest.NewCall(), heardMS: 1234}
		done := make(chan ivr.State, 1)
		go func() { done <- r.dialogue.Run(t.Context(), call, ivr.NewMachine(ivr.DefaultFlow(), callCtx)) }()
		time.Sleep(2 * time.Second)
		call.HangUp()
		if s := <-done; s.Outcome != objections.OutcomeHangupDuringPrompt || s.OfferMS != 1234 {
			t.Fatalf("state = %+v", s)
		}
	})
	if o := r.offers(t); len(o) != 1 || o[0].PlayedMS != 1234 {
		t.Fatalf("offers = %+v", o)
	}
}

// The offer's record is started in_progress while the offer plays and
// completed under the same id; both are events of the chain.
func TestRunStartsTheOfferRecord(t *testing.T) {
	r := newRig(t)
	var during []objections.Offer
	synctest.Test(t, func(t *testing.T) {
		call := ivrtest.NewCall()
		done := r.run(t.Context(), call, ivr.DefaultFlow())
		time.Sleep(time.Second)
		synctest.Wait()
		during = r.offers(t)
		call.Press("2")
		if s := <-done; s.Outcome != objections.OutcomeDeclined {
			t.Fatalf("outcome %s", s.Outcome)
		}
	})
	p, _ := r.catalog.Get("nl", prompts.Offer)
	if len(during) != 1 || during[0].Outcome != objections.OutcomeInProgress || during[0].PromptVersion != p.Version ||
		during[0].PromptID != string(prompts.Offer) || during[0].CallRef != callCtx.CallRef || during[0].Provider != "ari" {
		t.Fatalf("offers while the offer plays = %+v", during)
	}
	after := r.offers(t)
	if len(after) != 1 || after[0].ID != during[0].ID || after[0].Outcome != objections.OutcomeDeclined {
		t.Fatalf("offers after = %+v", after)
	}
	evs, err := r.store.EventsFor(context.Background(), after[0].ID)
	if err != nil || len(evs) != 2 || evs[0].Kind != objections.EventOfferStarted || evs[1].Kind != objections.EventOfferRecorded {
		t.Fatalf("events = %+v, %v", evs, err)
	}
}

// A prompt the provider cannot play is not an offer: outcome error with the
// reason, counted, and the call handed back at once (or hung up), not left
// waiting for a key in silence.
func TestRunFailedOfferIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hangup bool
	}{
		{"handed back", false},
		{"hung up", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			flow := ivr.DefaultFlow()
			flow.HangupOnError = tc.hangup
			synctest.Test(t, func(t *testing.T) {
				call := ivrtest.NewCall()
				call.PlayErr = func(id prompts.ID) error {
					return &ivr.PlayError{Kind: "not_found", Media: "sound:verzet/nl/offer-1", Detail: "not found"}
				}
				start := time.Now()
				s := <-r.run(t.Context(), call, flow)
				if s.Outcome != objections.OutcomeError || time.Since(start) > 0 {
					t.Fatalf("outcome %s after %s", s.Outcome, time.Since(start))
				}
				if call.Continued() == tc.hangup || call.HungUpBySystem() != tc.hangup {
					t.Fatalf("continued %v hung up %v", call.Continued(), call.HungUpBySystem())
				}
			})
			offers := r.offers(t)
			if len(offers) != 1 || offers[0].Outcome != objections.OutcomeError || offers[0].PlayedMS != 0 ||
				offers[0].Reason != "playback_failed: sound:verzet/nl/offer-1 not found" {
				t.Fatalf("offers = %+v", offers)
			}
			if got := r.dialogue.Keeper().Stats().PlaybackFailures(); got["not_found"] != 1 {
				t.Fatalf("playback failures = %v", got)
			}
		})
	}
}
