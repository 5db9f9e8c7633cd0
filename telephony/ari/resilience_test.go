package ari_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/net/websocket"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/telephony/ari"
	"github.com/verzet/verzet/telephony/ari/aritest"
)

var handled = []string{"StasisStart", "StasisEnd", "ChannelHangupRequest", "ChannelDestroyed", "ChannelDtmfReceived",
	"PlaybackStarted", "PlaybackContinuing", "PlaybackFinished", "ChannelUserevent", "ApplicationReplaced"}

// TestReconnectReconciles drops the node off the network mid-call. In the
// gap one caller hangs up and the other's offer ends; both events are lost.
// ari/v5 re-dials; the adapter sets the filter again and reconciles: the
// vanished call's offer is closed, the other resumes and takes a key.
func TestReconnectReconciles(t *testing.T) {
	r := newRig(t, rigOptions{
		config: func(c *ari.Config) { c.ReconcileInterval, c.HeartbeatInterval = time.Hour, time.Hour },
		flow:   func(f *ivr.Flow) { f.Timeout = 10 * time.Second },
	})
	r.waitRegistered()
	gone, stays := r.call(aritest.Call{}), r.call(aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": "0687654321"}})
	r.waitPlaying(gone, "offer-1")
	r.waitPlaying(stays, "offer-1")
	r.fake.Stop()
	if err := r.fake.HangUp(gone); err != nil {
		t.Fatal(err)
	}
	r.waitFor("offer to end in the gap", func() bool { ch, _ := r.fake.Channel(stays); return ch.Playing == "" })
	if _, ok := r.rec.offer(gone); ok {
		t.Fatal("offer closed before the reconnect: the hang-up was not lost")
	}
	if err := r.fake.Start(); err != nil {
		t.Fatal(err)
	}
	if o := r.offer(gone); o.Outcome != objections.OutcomeHangupDuringPrompt || o.PlayedMS <= 0 {
		t.Fatalf("vanished call's offer = %+v", o)
	}
	r.waitFor("filter set again", func() bool {
		allowed, _, _ := r.fake.EventFilter(app)
		return slices.Equal(allowed, handled)
	})
	r.press(stays, "1")
	if o := r.offer(stays); o.Outcome != objections.OutcomeObjected {
		t.Fatalf("resumed call's offer = %+v", o)
	}
	st := r.adapter.Stats()
	if st.Reconnects.Load() < 1 || st.CallsVanished.Load() != 1 || r.fake.Registrations() != 2 {
		t.Fatalf("reconnects %d, vanished %d, registrations %d", st.Reconnects.Load(), st.CallsVanished.Load(), r.fake.Registrations())
	}
}

// TestEventFilterAfterEveryReconnect: Asterisk clears the filter when the
// app registers again; the adapter sets it after each reconnect.
func TestEventFilterAfterEveryReconnect(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.waitRegistered()
	for i := 2; i <= 4; i++ {
		r.fake.DropWebsockets()
		r.waitRegistrations(i)
		r.waitFor("filter after reconnect", func() bool {
			allowed, _, _ := r.fake.EventFilter(app)
			return slices.Equal(allowed, handled)
		})
	}
	puts := 0
	for _, q := range r.fake.Requests() {
		if q.Method == "PUT" && strings.HasSuffix(q.Path, "/eventFilter") {
			puts++
		}
	}
	if puts < 4 || r.adapter.Stats().Connects.Load() != 4 {
		t.Fatalf("%d filter PUTs, %d connects", puts, r.adapter.Stats().Connects.Load())
	}
	r.objectOnNewCall()
}

// TestUnknownEventTypeDoesNotCrash: with the filter set, Asterisk does not
// send types ari/v5 cannot decode; and one that comes anyway does not
// crash the process.
func TestUnknownEventTypeDoesNotCrash(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	r.waitPlaying(id, "offer-1")
	types := []string{"ChannelToneDetected", "ChannelTransfer", "ApplicationRegistered", "RESTResponse", "CallBroadcast"}
	for _, typ := range types {
		if r.fake.Emit(app, map[string]any{"type": typ, "channel": map[string]any{"id": id}}) {
			t.Fatalf("%s went through the event filter", typ)
		}
	}
	// Without the filter (an Asterisk older than 13.26/16.3): ari/v5 hands
	// its bus a nil event, which stdbus would dereference, and drops the
	// websocket. The adapter's bus drops the nil; the reconnect is
	// reconciled like any other.
	r.fake.EmitRaw(app, []byte(`{"type":"ChannelToneDetected","timestamp":"2026-11-27T09:18:32.415+0000","application":"verzet","channel":{"id":"`+id+`"}}`))
	r.waitRegistrations(2)
	r.waitRegistered()
	if n := r.adapter.Stats().EventsUndecodable.Load(); n != 1 {
		t.Fatalf("%d undecodable events counted", n)
	}
	r.press(id, "1")
	r.wantOutcome(id, objections.OutcomeObjected)
}

// TestUnfilteredUnknownEventCrashesARIv5 documents the sharp edge the
// filter guards: a bare v5.3.1 client with a subscription dies on an event
// type it does not know. It runs in a child process.
func TestUnfilteredUnknownEventCrashesARIv5(t *testing.T) {
	if url := os.Getenv("VERZET_ARI_CRASH_URL"); url != "" {
		cl, err := native.Connect(&native.Options{Application: app, URL: url, WebsocketURL: "ws" + strings.TrimPrefix(url, "http") + "/events", Username: user, Password: pass})
		if err != nil {
			os.Exit(3)
		}
		sub := cl.Bus().Subscribe(nil, ariv5.Events.All)
		defer sub.Cancel()
		os.Stdout.WriteString("subscribed\n")
		_, _ = io.Copy(io.Discard, os.Stdin) // until the parent gives up
		os.Exit(0)                           // not reached when the library panics
	}
	fake := aritest.Start(t, aritest.Options{Username: user, Password: pass})
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnfilteredUnknownEventCrashesARIv5$")
	cmd.Env = append(os.Environ(), "VERZET_ARI_CRASH_URL="+fake.URL())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child lives until it crashes or its stdin closes.
	giveUp := time.AfterFunc(time.Until(aritest.Deadline(t)), func() { stdin.Close() })
	defer giveUp.Stop()
	line, _ := bufio.NewReader(out).ReadString('\n')
	ctx, cancel := aritest.Context(t)
	defer cancel()
	if err := fake.WaitRegistered(ctx, app); line != "subscribed\n" || err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child said %q (%v)", line, err)
	}
	fake.EmitRaw(app, []byte(`{"type":"ChannelToneDetected","timestamp":"2026-11-27T09:18:32.415+0000","application":"verzet","channel":{"id":"1.1"}}`))
	err = cmd.Wait()
	if err == nil || !strings.Contains(stderr.String(), "nil pointer") {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
}

// TestBadTimestampForcesReconnect: ari/v5 cannot parse a timestamp outside
// ARI's layout; it drops the websocket. The adapter sees the reconnect,
// sets the filter, reconciles, and the call goes on.
func TestBadTimestampForcesReconnect(t *testing.T) {
	r := newRig(t, rigOptions{flow: func(f *ivr.Flow) { f.Timeout = 10 * time.Second }})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	r.waitPlaying(id, "offer-1")
	r.fake.EmitRaw(app, []byte(`{"type":"ChannelDtmfReceived","timestamp":"2026-11-27T09:18:34Z","digit":"2","duration_ms":280,"application":"verzet","channel":{"id":"`+id+`"}}`))
	r.waitRegistrations(2)
	r.waitFor("filter after reconnect", func() bool {
		allowed, _, _ := r.fake.EventFilter(app)
		return len(allowed) > 0
	})
	r.press(id, "1")
	r.wantOutcome(id, objections.OutcomeObjected)
	if r.adapter.Stats().Reconnects.Load() < 1 {
		t.Fatal("reconnect not seen")
	}
}

// TestConnectBounded: a node that refuses connections and one that accepts
// and never answers both fail within the timeouts, are retried, and never
// hold up shutdown: with no call active, Run returns long before its drain
// deadline (an hour here).
func TestConnectBounded(t *testing.T) {
	cases := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"refused", func(t *testing.T) string { return aritest.DeadURL(t) }},
		{"never answers", func(t *testing.T) string { return aritest.Blackhole(t) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.url(t)
			r := newRig(t, rigOptions{
				urls: func(*aritest.Asterisk) []string { return []string{u} },
				config: func(c *ari.Config) {
					c.RequestTimeout, c.ConnectTimeout, c.DrainTimeout = 200*time.Millisecond, 200*time.Millisecond, time.Hour
				},
			})
			r.waitFor("three failed attempts", func() bool { return r.adapter.Stats().ConnectFailures.Load() >= 3 })
			r.shutdown()
		})
	}
}

// TestPendingConnectIsReused: REST answers but the websocket does not.
// ari/v5's Connect cannot be cancelled; the adapter waits for that attempt
// (bounded each time), does not start new clients, and is connected when
// the websocket comes back.
func TestPendingConnectIsReused(t *testing.T) {
	r := newRig(t, rigOptions{
		setup:  func(fake *aritest.Asterisk) { fake.RefuseWebsockets(true) },
		config: func(c *ari.Config) { c.ConnectTimeout = 200 * time.Millisecond },
	})
	r.waitFor("two timed-out connects", func() bool { return r.adapter.Stats().ConnectFailures.Load() >= 2 })
	probes := 0
	for _, q := range r.fake.Requests() {
		if q.Path == "/asterisk/info" {
			probes++
		}
	}
	if probes != 1 {
		t.Fatalf("%d probes: a new client per attempt", probes)
	}
	r.fake.RefuseWebsockets(false)
	r.waitRegistered()
	r.objectOnNewCall()
}

// TestReconnectsPromptly: Asterisk goes away (connection refused) long
// enough for the heartbeat to give the connection up and for the node to
// fail its probes, then comes back. Probing at a short fixed interval, the
// node registers the app again within 2 s (issue 14: half a minute of
// grown backoff). The log gives the real cause, the refused connection;
// no ERROR blames ApplicationReplaced.
func TestReconnectsPromptly(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	r := newRig(t, rigOptions{
		log:    zap.New(zapcore.NewTee(core, zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Core())),
		config: func(c *ari.Config) { c.HeartbeatInterval, c.RetryInterval = 100*time.Millisecond, 500*time.Millisecond },
	})
	r.waitRegistered()
	r.fake.Stop()
	r.waitFor("the connection given up and three probes failed", func() bool { return r.adapter.Stats().ConnectFailures.Load() >= 3 })
	regs := r.fake.Registrations()
	if err := r.fake.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	r.waitRegistrations(regs + 1)
	if d := time.Since(back); d > 2*time.Second {
		t.Errorf("app registered again %v after Asterisk came back", d)
	}
	for _, e := range logs.FilterLevelExact(zap.ErrorLevel).All() {
		t.Errorf("ERROR logged for an unreachable node: %s %v", e.Message, e.ContextMap())
	}
	refused := logs.Filter(func(e observer.LoggedEntry) bool {
		return e.Level == zap.WarnLevel && strings.Contains(e.Message, "unreachable") && strings.Contains(fmt.Sprint(e.ContextMap()["error"]), "connection refused")
	})
	if refused.Len() == 0 {
		t.Error("no warning names the refused connection")
	}
}

// TestNodesRunIndependently: two live nodes, a dead one and a hung one.
// Calls on the live nodes are handled while the others keep failing.
func TestNodesRunIndependently(t *testing.T) {
	var second *aritest.Asterisk
	r := newRig(t, rigOptions{
		urls: func(fake *aritest.Asterisk) []string {
			// The second node plays its offer until a key stops it, its
			// other prompts in 20 ms.
			second = aritest.Start(t, aritest.Options{Username: user, Password: pass, EntityID: "52:54:00:00:00:02",
				SoundDuration: func(uri string) (time.Duration, bool) {
					if strings.Contains(uri, "offer") {
						return time.Hour, true
					}
					return 20 * time.Millisecond, true
				}})
			return []string{fake.URL(), aritest.DeadURL(t), aritest.Blackhole(t), second.URL()}
		},
	})
	r.waitRegistered()
	ctx, cancel := aritest.Context(t)
	defer cancel()
	if err := second.WaitRegistered(ctx, app); err != nil {
		t.Fatal(err)
	}
	a := r.call(aritest.Call{})
	b, err := second.StartCall(app, aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": "0611111111"}})
	if err != nil {
		t.Fatal(err)
	}
	r.waitPlaying(a, "offer-1")
	r.press(a, "1")
	r.waitFor("second node playing", func() bool { ch, _ := second.Channel(b); return ch.Playing != "" })
	if err := second.Press(b, "1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a, b} {
		r.wantOutcome(id, objections.OutcomeObjected)
	}
	if r.adapter.Stats().ConnectFailures.Load() < 2 {
		t.Fatal("the dead nodes were not tried")
	}
}

// TestApplicationReplaced: another websocket registers our app name.
// stdbus would deliver ApplicationReplaced to nobody; the adapter's bus
// does: it logs the misconfiguration, counts it, and takes the app back
// only after ReplacedWait.
func TestApplicationReplaced(t *testing.T) {
	r := newRig(t, rigOptions{config: func(c *ari.Config) { c.ReplacedWait = 500 * time.Millisecond }})
	r.waitRegistered()
	thief := dialEvents(t, r.fake)
	defer thief.Close()
	r.waitFor("ApplicationReplaced seen", func() bool { return r.adapter.Stats().Replaced.Load() == 1 })
	r.waitRegistrations(3) // ours, the thief's, ours again
	var frame string
	_ = thief.SetReadDeadline(aritest.Deadline(t))
	for !strings.Contains(frame, "ApplicationReplaced") {
		if err := websocket.Message.Receive(thief, &frame); err != nil {
			t.Fatalf("thief: %v", err)
		}
	}
	r.waitRegistered()
	r.objectOnNewCall()
}

// TestHeartbeatFindsHalfOpenConnection: the websocket stays open but no
// event comes through. The heartbeat is not echoed twice; the adapter
// reconnects.
func TestHeartbeatFindsHalfOpenConnection(t *testing.T) {
	r := newRig(t, rigOptions{config: func(c *ari.Config) { c.HeartbeatInterval = 100 * time.Millisecond }})
	r.waitRegistered()
	r.fake.MuteWebsockets(true)
	r.waitFor("two heartbeats missed", func() bool { return r.adapter.Stats().HeartbeatMisses.Load() >= 2 })
	r.fake.MuteWebsockets(false)
	r.waitRegistrations(2)
	r.waitRegistered()
	r.objectOnNewCall()
}

// TestEventBurstLosesNothing: a burst of calls while the router is held.
// stdbus would drop events past 100 per subscription (lost StasisStarts:
// callers left in silence); the adapter's bus queues them all. The router
// is held until more than 100 events wait, so the pile-up does not depend
// on how fast this machine is.
func TestEventBurstLosesNothing(t *testing.T) {
	var hold atomic.Bool
	release := make(chan struct{})
	r := newRig(t, rigOptions{
		// Variables come with StasisStart, as deploy/asterisk/ari.conf has them.
		fake: func(o *aritest.Options) { o.ChannelVars = channelVars },
		// No heartbeat or periodic reconcile while the router is held.
		config: func(c *ari.Config) { c.HeartbeatInterval, c.ReconcileInterval = time.Hour, time.Hour },
		flow:   func(f *ivr.Flow) { f.Timeout = 300 * time.Millisecond }, // every offer closes as no_input
		hook: func() {
			if hold.Load() {
				<-release
			}
		},
	})
	r.waitRegistered()
	hold.Store(true)
	const calls = 250
	ids := make([]string, calls)
	for i := range ids {
		ids[i] = r.call(aritest.Call{})
	}
	r.waitFor("the burst to pile up", func() bool { return r.adapter.Stats().EventBacklogMax.Load() > 100 })
	close(release)
	for _, id := range ids {
		if o := r.wantOutcome(id, objections.OutcomeNoInput); o.PlayedMS == 0 {
			t.Fatalf("offer = %+v", o)
		}
	}
	if n := r.adapter.Stats().CallsAdopted.Load(); n != 0 {
		t.Fatalf("adopted %d: StasisStarts lost", n)
	}
}

// TestOrphanChannelsAdopted: channels parked in the app while no verzet
// was connected (verzet restarted) get their dialogue when it connects.
func TestOrphanChannelsAdopted(t *testing.T) {
	var orphans []string
	r := newRig(t, rigOptions{
		fake: offerUntilKey, // the three offers wait for their keys
		setup: func(fake *aritest.Asterisk) {
			ws := dialEvents(t, fake) // the verzet before the restart
			ctx, cancel := aritest.Context(t)
			defer cancel()
			if err := fake.WaitRegistered(ctx, app); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				id, err := fake.StartCall(app, aritest.Call{Args: []string{"acme", "campaign=autumn"},
					Vars: map[string]string{"VERZET_NUMBER": fmt.Sprintf("06123456%02d", i)}})
				if err != nil {
					t.Fatal(err)
				}
				orphans = append(orphans, id)
			}
			ws.Close()
		},
	})
	r.waitRegistered()
	for _, id := range orphans {
		r.waitPlaying(id, "offer-1")
		r.press(id, "1")
		if o := r.offer(id); o.Outcome != objections.OutcomeObjected || o.CampaignRef != "autumn" {
			t.Fatalf("offer = %+v", o)
		}
	}
	if n := r.adapter.Stats().CallsAdopted.Load(); n != 3 {
		t.Fatalf("adopted %d", n)
	}
}

// TestDrain: after Run's ctx ends, new channels are handed back marked
// refused; the active dialogue finishes.
func TestDrain(t *testing.T) {
	r := newRig(t, rigOptions{fake: offerUntilKey, config: func(c *ari.Config) { c.DrainTimeout = time.Hour }})
	r.waitRegistered()
	active := r.call(aritest.Call{})
	r.waitPlaying(active, "offer-1")
	r.stop()
	r.waitFor("draining", func() bool { return ari.Draining(r.adapter) })
	select {
	case <-r.done:
		t.Fatal("Run returned with a dialogue active")
	default:
	}
	late := r.call(aritest.Call{})
	r.waitFor("late call handed back", func() bool { ch, _ := r.fake.Channel(late); return ch.Continued })
	if ch, _ := r.fake.Channel(late); ch.Vars[ari.VarResult] != "refused" || ch.Vars[ari.VarRefused] != "shutdown" {
		t.Fatalf("late channel = %+v", ch)
	}
	r.press(active, "1")
	r.wantOutcome(active, objections.OutcomeObjected)
	r.waitFor("Run to return after the last dialogue", r.stopped)
}

// TestDrainTimeoutHangsUp: a dialogue still running at the drain deadline
// is ended by the system.
func TestDrainTimeoutHangsUp(t *testing.T) {
	r := newRig(t, rigOptions{
		flow:   func(f *ivr.Flow) { f.Timeout = time.Minute },
		config: func(c *ari.Config) { c.DrainTimeout = 300 * time.Millisecond },
	})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	r.waitPlaying(id, "offer-1")
	r.stop()
	r.waitFor("Run to return after the drain timeout", r.stopped)
	o := r.offer(id)
	ch, _ := r.fake.Channel(id)
	if o.EndedBy != objections.EndedBySystem || ch.HungUpBy != "app" {
		t.Fatalf("offer = %+v, channel = %+v", o, ch)
	}
}

// TestReplayedFrames replays frames captured from Asterisk 20 (ids
// swapped for the live call's): a real caller hang-up, and a real key.
func TestReplayedFrames(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		lines   []int // 1-based lines of the capture to replay
		chanID  string
		pbID    string
		outcome objections.Outcome
	}{
		{"caller hangs up during the offer", "03-caller-hangs-up-during-offer.jsonl", []int{3, 4, 5, 6, 7, 8, 9, 10}, "1795771139.2", "pb-15901-1", objections.OutcomeHangupDuringPrompt},
		{"key 1 during the offer", "01-filtered-app-key1.jsonl", []int{3}, "1795771112.0", "01m8e4s6z1e4147s7myya57q8e-pb", objections.OutcomeObjected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile("aritest/testdata/real-events/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			r := newRig(t, rigOptions{})
			r.waitRegistered()
			id := r.call(aritest.Call{})
			r.waitPlaying(id, "offer-1")
			ch, _ := r.fake.Channel(id)
			for _, n := range tc.lines {
				frame := strings.ReplaceAll(lines[n-1], tc.chanID, id)
				frame = strings.ReplaceAll(frame, tc.pbID, ch.Playing)
				r.fake.EmitRaw(app, []byte(frame))
			}
			r.wantOutcome(id, tc.outcome)
		})
	}
}
