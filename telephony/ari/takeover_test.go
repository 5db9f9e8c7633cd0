package ari_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/telephony/ari"
	"github.com/verzet/verzet/telephony/ari/aritest"
)

// errKilled is what a killed instance's store calls get: it makes none.
var errKilled = errors.New("instance killed")

// killable passes a store's calls through until the instance is killed.
type killable struct {
	killed *atomic.Bool
}

func (k killable) check() error {
	if k.killed.Load() {
		return errKilled
	}
	return nil
}

// killablePeers is the heartbeat of an instance that can be killed.
type killablePeers struct {
	ari.Peers
	killable
}

func (p killablePeers) Heartbeat(ctx context.Context, inst objections.Instance) error {
	if err := p.check(); err != nil {
		return err
	}
	return p.Peers.Heartbeat(ctx, inst)
}

func (p killablePeers) Instances(ctx context.Context) ([]objections.Instance, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.Peers.Instances(ctx)
}

// killableRecorder is the register of an instance that can be killed.
type killableRecorder struct {
	ivr.Recorder
	killable
}

func (r killableRecorder) Commit(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	if err := r.check(); err != nil {
		return objections.Objection{}, false, err
	}
	return r.Recorder.Commit(ctx, o)
}

func (r killableRecorder) CommitOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := r.check(); err != nil {
		return objections.Offer{}, false, err
	}
	return r.Recorder.CommitOffer(ctx, o)
}

func (r killableRecorder) StartOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := r.check(); err != nil {
		return objections.Offer{}, false, err
	}
	return r.Recorder.StartOffer(ctx, o)
}

// instance is one verzet on the shared store and the shared fake Asterisk,
// with its own ARI application and ari.conf user.
type instance struct {
	id, app, user string
	adapter       *ari.Adapter
	killed        atomic.Bool
}

// peerStore is what the instances share.
type peerStore interface {
	store
	ari.Peers
	OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error)
}

// startInstance runs an instance until the test ends.
func startInstance(t *testing.T, fake *aritest.Asterisk, st peerStore, id, app, user string, log *zap.Logger) *instance {
	t.Helper()
	cat := catalog(t)
	inst := &instance{id: id, app: app, user: user}
	nums, _ := objections.NewNumbers("NL")
	rec := killableRecorder{Recorder: objections.NewRegister(st, nums, nil), killable: killable{&inst.killed}}
	log = log.With(zap.String("test_instance", id))
	keeper := ivr.NewKeeper(rec, nil, log, nil, ivr.WithInstance(id), ivr.WithStoreTimeout(time.Until(aritest.Deadline(t))))
	dlg := ivr.NewDialogue(keeper, cat, log, nil)
	flows := func(ctx context.Context, org, lang string) (ivr.Flow, string) { return testFlow(), "nl" }
	a, err := ari.New(ari.Config{URLs: []string{fake.URL()}, Username: user, Password: "pw-" + user, App: app,
		RequestTimeout: 5 * time.Second, RetryInterval: 50 * time.Millisecond, HeartbeatInterval: 5 * time.Second,
		ReconcileInterval: 5 * time.Second, DrainTimeout: time.Second, PlaybackGrace: time.Second,
		Instance: id, Peers: killablePeers{Peers: st, killable: killable{&inst.killed}}}, dlg, flows, log)
	if err != nil {
		t.Fatal(err)
	}
	inst.adapter = a
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if inst.killed.Load() {
			// Its ari/v5 client re-dials every second while cut off, and
			// sees its cancellation only when it wakes.
			waitNoListenLoops(t)
		}
	})
	wctx, wcancel := aritest.Context(t)
	defer wcancel()
	if err := fake.WaitRegistered(wctx, app); err != nil {
		t.Fatal(err)
	}
	return inst
}

// kill is the instance's process killed: its websocket and REST calls to
// Asterisk fail from now on, and so does everything it asks of the store
// (its heartbeat stops). It does not hang up or hand back anything.
func (i *instance) kill(fake *aritest.Asterisk) {
	i.killed.Store(true)
	fake.CutOff(i.user)
}

// TestTakeover: instance A is killed mid-offer; B, on the same store, sees
// A's heartbeat stop, claims A's application and moves the channel to its
// own within 5 s (A's heartbeat stale for over 3 s, one beat to notice);
// the offer starts again on B; a key 1 pressed in the gap (after B
// subscribed to the channel, before the channel reached B) or after it is
// recorded once. A's offer is closed as interrupted, B's follows it. A's
// offer sound plays on after A died, for an hour here: B stops it by its
// id (the move waits for it).
func TestTakeover(t *testing.T) {
	for _, tc := range []struct {
		name  string
		inGap bool
	}{
		{"key after the takeover", false},
		{"key in the gap, heard through the subscription", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testTakeover(t, tc.inGap)
		})
	}
}

func testTakeover(t *testing.T, inGap bool) {
	cat := catalog(t)
	log := zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	var (
		fake    *aritest.Asterisk
		channel atomic.Value // the call's channel id
		pressed atomic.Bool
	)
	channel.Store("")
	opts := aritest.Options{Username: user, Password: pass, Users: map[string]string{"a": "pw-a", "b": "pw-b"},
		SoundDuration: catalogDurations(cat), ChannelVars: channelVars}
	// The offer's sounds play for an hour: the dead instance's playback
	// never ends by itself, and the move waits for it, so B must stop it.
	offerUntilKey(&opts)
	fake = aritest.Start(t, aritest.Options{Username: opts.Username, Password: opts.Password, Users: opts.Users,
		SoundDuration: opts.SoundDuration, ChannelVars: opts.ChannelVars,
		OnRequest: func(req aritest.Request) {
			// B's move comes right after its subscription: a key now is
			// in the gap, heard only through the subscription.
			if id := channel.Load().(string); inGap && id != "" && req.Path == "/channels/"+id+"/move" && !pressed.Swap(true) {
				if err := fake.Press(id, "1"); err != nil {
					t.Error(err)
				}
			}
		}})
	st := openSQLite(t)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ps := st.(peerStore)
	a := startInstance(t, fake, ps, "inst-a", "verzet-a", "a", log)
	b := startInstance(t, fake, ps, "inst-b", "verzet-b", "b", log)

	id, err := fake.StartCall(a.app, aritest.Call{Args: []string{"org=acme"}, Vars: map[string]string{"VERZET_NUMBER": "0612345678"}})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, fake: fake, st: st}
	var first objections.Offer
	r.waitFor("A's offer in progress", func() bool {
		o, err := ps.OfferByCallRef(context.Background(), "ari", id)
		first = o
		return err == nil && o.Outcome == objections.OutcomeInProgress && o.Instance == a.id
	})
	r.waitFor("A playing its offer", func() bool { ch, _ := fake.Channel(id); return ch.Playing != "" })
	channel.Store(id)
	killed := time.Now()
	a.kill(fake)

	r.waitFor("the channel in B's application", func() bool { ch, _ := fake.Channel(id); return ch.App == b.app })
	if took := time.Since(killed); took > 5*time.Second {
		t.Errorf("B took the channel %s after A was killed, want within 5 s", took.Round(time.Millisecond))
	}
	if inGap {
		r.waitFor("the key pressed in the gap", pressed.Load)
	} else {
		r.waitFor("B playing the offer", func() bool {
			ch, _ := fake.Channel(id)
			return ch.Playing != "" && strings.Contains(ch.PlayingMedia, "offer") && len(ch.Played) > 1
		})
		if err := fake.Press(id, "1"); err != nil {
			t.Fatal(err)
		}
	}
	var second objections.Offer
	r.waitFor("B's offer closed", func() bool {
		o, err := ps.OfferByCallRef(context.Background(), "ari", id)
		second = o
		return err == nil && o.ID != first.ID && o.Outcome.Final()
	})
	if second.Outcome != objections.OutcomeObjected || second.Instance != b.id || second.PreviousOfferID != first.ID ||
		len(second.Keys) != 1 || second.Keys[0].Digit != "1" {
		t.Fatalf("B's offer = %+v", second)
	}
	r.waitFor("A's offer interrupted", func() bool {
		o, err := ps.Offer(context.Background(), first.ID)
		first = o
		return err == nil && o.Outcome == objections.OutcomeInterrupted
	})
	if first.EndedAt.IsZero() || !strings.Contains(first.Reason, "inst-a") {
		t.Fatalf("A's offer = %+v", first)
	}
	objs, err := ps.Objections(context.Background(), objections.ObjectionFilter{Org: "acme"})
	if err != nil || len(objs) != 1 || objs[0].CallRef != id || objs[0].OfferID != second.ID {
		t.Fatalf("objections = %+v, %v", objs, err)
	}
	if n, err := objections.VerifyChain(context.Background(), ps); err != nil || n != 5 {
		t.Fatalf("chain: %d events, %v; want 5 (A started, B started, A interrupted, objection, B recorded)", n, err)
	}
	if got := b.adapter.Stats().CallsTakenOver.Load(); got != 1 {
		t.Fatalf("calls taken over = %d", got)
	}
	if inGap && b.adapter.Stats().KeysDropped.Load() != 0 {
		t.Fatal("the key in the gap was dropped")
	}
}

// waitNoListenLoops waits until no ari/v5 client listen loop runs: one
// that sleeps between dials ends within a second of its cancellation.
func waitNoListenLoops(t *testing.T) {
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 1<<20)
	for time.Now().Before(deadline) {
		n := runtime.Stack(buf, true)
		if !strings.Contains(string(buf[:n]), "client/native.(*Client).listen") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("ari/v5 listen loops still running 5 s after their clients were stopped")
}

// TestRestartClosesTheOffersOfTheInstanceBefore: the instance is killed
// mid-offer and started again with the same application (a new instance
// id). The new one adopts the channel (reconcile) and offers again; its
// offer follows the one left in progress, which it closes as interrupted
// once the old heartbeat is over 3 s old.
func TestRestartClosesTheOffersOfTheInstanceBefore(t *testing.T) {
	cat := catalog(t)
	log := zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	fake := aritest.Start(t, aritest.Options{Username: user, Password: pass, Users: map[string]string{"a1": "pw-a1", "a2": "pw-a2"},
		SoundDuration: catalogDurations(cat), ChannelVars: channelVars})
	st := openSQLite(t)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ps := st.(peerStore)
	first := startInstance(t, fake, ps, "inst-1", "verzet-a", "a1", log)
	id, err := fake.StartCall(first.app, aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": "0612345678"}})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, fake: fake, st: st}
	var before objections.Offer
	r.waitFor("the first offer in progress", func() bool {
		o, err := ps.OfferByCallRef(context.Background(), "ari", id)
		before = o
		return err == nil && o.Outcome == objections.OutcomeInProgress
	})
	first.kill(fake)
	startInstance(t, fake, ps, "inst-2", "verzet-a", "a2", log)
	r.waitFor("the second instance playing the offer", func() bool {
		ch, _ := fake.Channel(id)
		return len(ch.Played) > 1 && ch.Playing != ""
	})
	if err := fake.Press(id, "1"); err != nil {
		t.Fatal(err)
	}
	var after objections.Offer
	r.waitFor("the second offer closed", func() bool {
		o, err := ps.OfferByCallRef(context.Background(), "ari", id)
		after = o
		return err == nil && o.ID != before.ID && o.Outcome.Final()
	})
	if after.Outcome != objections.OutcomeObjected || after.PreviousOfferID != before.ID || after.Instance != "inst-2" {
		t.Fatalf("second offer = %+v", after)
	}
	r.waitFor("the first offer interrupted", func() bool {
		o, err := ps.Offer(context.Background(), before.ID)
		before = o
		return err == nil && o.Outcome == objections.OutcomeInterrupted
	})
	if !strings.Contains(before.Reason, "inst-1") || !strings.Contains(before.Reason, "inst-2") {
		t.Fatalf("first offer = %+v", before)
	}
}
