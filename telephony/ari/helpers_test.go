package ari_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"golang.org/x/net/websocket"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/telephony/ari"
	"github.com/verzet/verzet/telephony/ari/aritest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	app  = "verzet"
	user = "verzet"
	pass = "s3cret"
	// speed plays prompts this many times faster than real time in the fake.
	speed = 25
)

// store is what the tests read back.
type store interface {
	objections.Store
	Migrate(ctx context.Context) error
}

func openSQLite(t testing.TB) store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t testing.TB) store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// recorder wraps the register: it notes when each objection became durable
// and signals each closed offer, so tests wait on events, not sleeps.
type recorder struct {
	ivr.Recorder
	mu         sync.Mutex
	committed  map[string]time.Time // call ref → objection durable
	offers     map[string]objections.Offer
	offerAdded chan struct{}
}

func (r *recorder) Commit(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	rec, created, err := r.Recorder.Commit(ctx, o)
	if err == nil {
		r.mu.Lock()
		if _, ok := r.committed[o.CallRef]; !ok {
			r.committed[o.CallRef] = time.Now()
		}
		r.mu.Unlock()
	}
	return rec, created, err
}

func (r *recorder) CommitOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	rec, created, err := r.Recorder.CommitOffer(ctx, o)
	if err == nil {
		r.mu.Lock()
		r.offers[o.CallRef] = rec
		r.mu.Unlock()
		select {
		case r.offerAdded <- struct{}{}:
		default:
		}
	}
	return rec, created, err
}

func (r *recorder) durableAt(callRef string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.committed[callRef]
	return t, ok
}

func (r *recorder) offer(callRef string) (objections.Offer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.offers[callRef]
	return o, ok
}

func (r *recorder) offerCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.offers)
}

// rig is a running adapter over a fake Asterisk and a real store.
type rig struct {
	t       testing.TB
	fake    *aritest.Asterisk
	st      store
	cat     *prompts.Catalog
	rec     *recorder
	adapter *ari.Adapter
	flow    ivr.Flow
	stop    context.CancelFunc
	done    chan struct{}
}

type rigOptions struct {
	store  store
	urls   func(fake *aritest.Asterisk) []string
	config func(c *ari.Config)
	fake   func(o *aritest.Options)
	flow   func(f *ivr.Flow)
	log    *zap.Logger
	hook   func()
	setup  func(fake *aritest.Asterisk) // before the adapter starts
}

// testFlow is the default dialogue. A key pressed after waitPlaying saw
// the offer still finds the dialogue waiting for it, however late this
// machine runs the test: the wait for a key is long, and tests of the
// no-key paths shorten it.
func testFlow() ivr.Flow {
	f := ivr.DefaultFlow()
	f.Timeout = 10 * time.Second
	f.Debounce = 10 * time.Millisecond
	return f
}

// channelVars are the variables deploy/asterisk/ari.conf has Asterisk
// send with StasisStart.
var channelVars = []string{"VERZET_ORG", "VERZET_AGENCY", "VERZET_CAMPAIGN", "VERZET_LEAD", "VERZET_AGENT", "VERZET_DIALER_CALL",
	"VERZET_ANNOUNCED", "VERZET_NUMBER", "VERZET_LANG", "VERZET_DIRECTION"}

// offerUntilKey makes the fake play the offer's sounds for an hour: a key
// (or a hang-up) always comes during the offer, however late; the other
// prompts keep their length.
func offerUntilKey(o *aritest.Options) {
	d := o.SoundDuration
	o.SoundDuration = func(uri string) (time.Duration, bool) {
		if strings.Contains(uri, "/offer-") {
			return time.Hour, true
		}
		return d(uri)
	}
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	cat, err := prompts.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	fo := aritest.Options{Username: user, Password: pass, SoundDuration: catalogDurations(cat)}
	if o.fake != nil {
		o.fake(&fo)
	}
	fake := aritest.Start(t, fo)
	if o.setup != nil {
		o.setup(fake)
	}
	st := o.store
	if st == nil {
		st = openSQLite(t)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	nums, _ := objections.NewNumbers("NL")
	reg := objections.NewRegister(st, nums, nil)
	rec := &recorder{Recorder: reg, committed: map[string]time.Time{}, offers: map[string]objections.Offer{}, offerAdded: make(chan struct{}, 1)}
	log := o.log
	if log == nil {
		log = zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	}
	// No spool: a write the store does not take fails the test. Under
	// -race on a busy machine SQLite's fsync'd commits can queue for
	// seconds when hundreds of calls end at once: the store may take as
	// long as the test may wait.
	keeper := ivr.NewKeeper(rec, nil, log, nil, ivr.WithStoreTimeout(time.Until(aritest.Deadline(t))))
	dlg := ivr.NewDialogue(keeper, cat, log, nil)
	r := &rig{t: t, fake: fake, st: st, cat: cat, rec: rec, flow: testFlow(), done: make(chan struct{})}
	if o.flow != nil {
		o.flow(&r.flow)
	}
	urls := []string{fake.URL()}
	if o.urls != nil {
		urls = o.urls(fake)
	}
	// REST calls and connects may take long on a loaded machine (250 calls
	// at once under -race): tests of these bounds set their own.
	cfg := ari.Config{URLs: urls, Username: user, Password: pass, App: app, RequestTimeout: 30 * time.Second,
		ConnectTimeout: 10 * time.Second, RetryInterval: 50 * time.Millisecond, ReplacedWait: 200 * time.Millisecond,
		HeartbeatInterval: 5 * time.Second, ReconcileInterval: 5 * time.Second, DrainTimeout: time.Second, PlaybackGrace: time.Second}
	if o.config != nil {
		o.config(&cfg)
	}
	flows := func(ctx context.Context, org, lang string) (ivr.Flow, string) {
		if lang == "" {
			lang = "nl"
		}
		return r.flow, lang
	}
	a, err := ari.New(cfg, dlg, flows, log)
	if err != nil {
		t.Fatal(err)
	}
	if o.hook != nil {
		ari.SetRouteHook(a, o.hook)
	}
	r.adapter = a
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		defer close(r.done)
		a.Run(ctx)
	}()
	t.Cleanup(r.shutdown)
	return r
}

// shutdown stops the adapter and waits for it.
func (r *rig) shutdown() {
	r.stop()
	select {
	case <-r.done:
	case <-time.After(time.Until(aritest.Deadline(r.t))):
		r.t.Errorf("adapter did not stop")
	}
}

// stopped reports whether Run has returned.
func (r *rig) stopped() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// catalogDurations plays each sound for its real length divided by speed,
// in whole milliseconds (fakeMS).
func catalogDurations(cat *prompts.Catalog) func(string) (time.Duration, bool) {
	return func(uri string) (time.Duration, bool) {
		s, err := cat.Sound(strings.TrimPrefix(uri, "sound:"))
		if err != nil {
			return 0, false
		}
		return time.Duration(s.DurationMS/speed) * time.Millisecond, true
	}
}

func (r *rig) waitRegistered() {
	r.t.Helper()
	ctx, cancel := aritest.Context(r.t)
	defer cancel()
	if err := r.fake.WaitRegistered(ctx, app); err != nil {
		r.t.Fatal(err)
	}
	// The filter is set right after the registration, on the client's
	// listen goroutine: wait for it too.
	r.waitFor("event filter set", func() bool {
		allowed, _, _ := r.fake.EventFilter(app)
		return len(allowed) > 0
	})
}

// call starts a channel with the usual variables.
func (r *rig) call(c aritest.Call) string {
	r.t.Helper()
	if c.Vars == nil {
		c.Vars = map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": "0612345678", "VERZET_CAMPAIGN": "spring"}
	}
	id, err := r.fake.StartCall(app, c)
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// waitFor polls cond until it holds. It has no time limit of its own (see
// aritest.Deadline): on a loaded machine a test only gets slower.
func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := aritest.Deadline(r.t)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitPlaying waits until the channel plays a prompt holding media part,
// and the adapter knows it does (Asterisk's answer to the POST reached it:
// a test that takes the node down next does not cut that answer off).
func (r *rig) waitPlaying(id, part string) {
	r.t.Helper()
	r.waitFor("playing "+part, func() bool {
		ch, _ := r.fake.Channel(id)
		return ch.Playing != "" && len(ch.Played) > 0 && slices.ContainsFunc(ch.Played[len(ch.Played)-1], func(m string) bool { return strings.Contains(m, part) }) &&
			ari.Playing(r.adapter, id)
	})
}

// waitRegistrations waits until the fake has seen n registrations.
func (r *rig) waitRegistrations(n int) {
	r.t.Helper()
	ctx, cancel := aritest.Context(r.t)
	defer cancel()
	if err := r.fake.WaitRegistrations(ctx, n); err != nil {
		r.t.Fatal(err)
	}
}

// offer waits for the call's offer evidence.
func (r *rig) offer(id string) objections.Offer {
	r.t.Helper()
	var o objections.Offer
	r.waitFor("offer of "+id, func() bool {
		var ok bool
		o, ok = r.rec.offer(id)
		return ok
	})
	return o
}

func (r *rig) objections(org string) []objections.Objection {
	r.t.Helper()
	list, err := r.st.Objections(context.Background(), objections.ObjectionFilter{Org: org, Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	return list
}

// press sends digits on a channel in Stasis.
func (r *rig) press(id, digits string) {
	r.t.Helper()
	if err := r.fake.Press(id, digits); err != nil {
		r.t.Fatal(err)
	}
}

// wantOutcome waits for the call's offer and checks its outcome.
func (r *rig) wantOutcome(id string, want objections.Outcome) objections.Offer {
	r.t.Helper()
	o := r.offer(id)
	if o.Outcome != want {
		r.t.Fatalf("offer = %+v, want outcome %s", o, want)
	}
	return o
}

// objectOnNewCall starts a call, presses 1 during the offer and waits for
// the objection: the adapter works end to end.
func (r *rig) objectOnNewCall() {
	r.t.Helper()
	id := r.call(aritest.Call{})
	r.waitPlaying(id, "offer-1")
	r.press(id, "1")
	r.wantOutcome(id, objections.OutcomeObjected)
}

// dialEvents opens an events websocket for our app with the rig's
// credentials, as another client (or an earlier verzet) would.
func dialEvents(tb testing.TB, fake *aritest.Asterisk) *websocket.Conn {
	tb.Helper()
	cfg, err := websocket.NewConfig("ws://"+fake.Addr()+"/ari/events?app="+app, "http://localhost/")
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return ws
}

// played lists the prompts a channel heard, by their first sound's name.
func played(ch aritest.ChannelInfo) []string {
	var out []string
	for _, m := range ch.Played {
		name := strings.TrimPrefix(m[0], "sound:verzet/nl/")
		name, _, _ = strings.Cut(name, "-")
		out = append(out, name)
	}
	return out
}
