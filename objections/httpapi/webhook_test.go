package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

const testSecret = "whsec-test"

// receiver is a webhook endpoint that checks signatures and records what
// it got, failing on demand.
type receiver struct {
	t  *testing.T
	ts *httptest.Server

	mu       sync.Mutex
	fail     func(ev Event, attempt int) int // status to answer; 0 means 204
	attempts map[string]int                  // by event id
	acked    map[string][]string             // by number: event ids acknowledged, in order
	seen     map[string][]string             // by number: every attempt's event id, in order
	events   map[string]Event
	errs     []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, attempts: map[string]int{}, acked: map[string][]string{}, seen: map[string][]string{}, events: map[string]Event{}}
	r.ts = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.ts.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := verify(req.Header.Get(SignatureHeader), body, time.Now()); err != nil {
		r.errs = append(r.errs, "bad signature: "+err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		r.errs = append(r.errs, "bad body: "+err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if req.Header.Get("Verzet-Event-Id") != ev.ID || req.Header.Get("Verzet-Event-Type") != ev.Type || req.Header.Get("Content-Type") != "application/json" {
		r.errs = append(r.errs, "headers do not match the body: "+fmt.Sprint(req.Header))
	}
	key := ev.Objection.Org + "/" + ev.Objection.Number
	r.attempts[ev.ID]++
	r.seen[key] = append(r.seen[key], ev.ID)
	if att, _ := strconv.Atoi(req.Header.Get("Verzet-Delivery-Attempt")); att < 1 {
		r.errs = append(r.errs, "no attempt header")
	}
	status := 0
	if r.fail != nil {
		status = r.fail(ev, r.attempts[ev.ID])
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if _, dup := r.events[ev.ID]; !dup {
		r.acked[key] = append(r.acked[key], ev.ID)
	}
	r.events[ev.ID] = ev
	w.WriteHeader(http.StatusNoContent)
}

// verify checks a Verzet-Signature header as a receiver would.
func verify(header string, body []byte, now time.Time) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("t %q", ts)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("t %s too far from now", ts)
	}
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("v1 does not match")
	}
	return nil
}

// waitAll waits until every id in want was acknowledged.
func (r *receiver) waitAll(want []string, within time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		missing := 0
		for _, id := range want {
			if _, ok := r.events[id]; !ok {
				missing++
			}
		}
		errs := append([]string(nil), r.errs...)
		r.mu.Unlock()
		if len(errs) > 0 {
			r.t.Fatalf("receiver errors: %v", errs)
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d events not delivered within %v", missing, len(want), within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkOrder fails unless, for every number, events were acknowledged in
// the order of want and no attempt at an event came before the previous
// event of its number was acknowledged.
func (r *receiver) checkOrder(want map[string][]string) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, ids := range want {
		if fmt.Sprint(r.acked[key]) != fmt.Sprint(ids) {
			r.t.Errorf("%s: acknowledged %v, want %v", key, r.acked[key], ids)
		}
		// In the attempts, once an event appears the earlier ones never do again.
		pos := map[string]int{}
		for i, id := range ids {
			pos[id] = i
		}
		last := 0
		for _, id := range r.seen[key] {
			if pos[id] < last {
				r.t.Errorf("%s: attempt at %s after a later event was attempted: %v", key, id, r.seen[key])
				break
			}
			last = pos[id]
		}
	}
}

func webhookConfig(urls ...string) Config {
	return Config{Webhooks: WebhookConfig{URLs: urls, Secret: testSecret, Poll: 20 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Lease: 2 * time.Second, Timeout: 2 * time.Second}}
}

// Every new or voided objection reaches the receiver signed, after
// retries, in order per number; records made by another process too.
func TestWebhooksDeliverSignedInOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		rcv := newReceiver(t)
		// Every event fails twice with a 500 before it is taken.
		rcv.fail = func(ev Event, attempt int) int {
			if attempt <= 2 {
				return http.StatusInternalServerError
			}
			return 0
		}
		e := newEnv(t, b, webhookConfig(rcv.ts.URL+"/hook?k=1"))
		e.runBackground()
		waitTargets(t, e)
		other := objections.NewRegister(e.reopen(t), objections.Numbers{Region: "NL"}, nil)

		want := map[string][]string{}
		var all []string
		add := func(o objections.Objection, kind string) {
			id := o.ID + "." + kind
			want[o.Org+"/"+o.Number] = append(want[o.Org+"/"+o.Number], id)
			all = append(all, id)
		}
		var o1 objectionView
		e.do(req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: map[string]string{"org": "acme", "number": "0612345601", "source": "web"}}).
			want(t, http.StatusCreated).json(t, &o1)
		add(objections.Objection{ID: o1.ID, Org: "acme", Number: o1.Number}, "recorded")
		e.do(req{method: "POST", path: "/v1/objections/" + o1.ID + "/void", role: access.RoleAdmin, body: map[string]string{"reason": "typo"}}).want(t, http.StatusOK)
		add(objections.Objection{ID: o1.ID, Org: "acme", Number: o1.Number}, "voided")
		add(recordVia(t, other, "acme", "0612345601"), "recorded")
		add(recordVia(t, other, "acme", "0612345602"), "recorded")
		add(recordVia(t, e.reg, "beta", "0612345601"), "recorded")

		rcv.waitAll(all, 20*time.Second)
		rcv.checkOrder(want)
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		for _, id := range all {
			if rcv.attempts[id] < 3 {
				t.Errorf("%s taken after %d attempts, want 3", id, rcv.attempts[id])
			}
		}
		rec := rcv.events[o1.ID+".recorded"]
		if rec.Type != "objection.recorded" || rec.Objection.Status != "active" || rec.Objection.VoidedAt != nil || rec.Objection.Number != "+31612345601" ||
			!rec.OccurredAt.Equal(rec.Objection.ReceivedAt) {
			t.Errorf("recorded event = %+v", rec)
		}
		void := rcv.events[o1.ID+".voided"]
		if void.Type != "objection.voided" || void.Objection.Status != "voided" || void.Objection.VoidReason != "typo" || !void.OccurredAt.Equal(*void.Objection.VoidedAt) {
			t.Errorf("voided event = %+v", void)
		}
	})
}

// waitTargets waits until the relay registered its targets (events
// recorded before that have no delivery, by design).
func waitTargets(t *testing.T, e *apiEnv) {
	t.Helper()
	select {
	case <-e.srv.relay.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("webhook targets not registered")
	}
}

// Stop the relay while the receiver is down, record more, start a new
// server (a restart): everything arrives, nothing is lost.
func TestWebhooksSurviveRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		rcv := newReceiver(t)
		var down sync.Mutex
		isDown := true
		rcv.fail = func(Event, int) int {
			down.Lock()
			defer down.Unlock()
			if isDown {
				return http.StatusServiceUnavailable
			}
			return 0
		}
		cfg := webhookConfig(rcv.ts.URL)
		cfg.Webhooks.Lease = 300 * time.Millisecond
		st, reopen := b.open(t)
		e1 := envOn(t, st, reopen, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e1.srv.Run(ctx) }()
		waitTargets(t, e1)
		var all []string
		for i := range 5 {
			all = append(all, recordVia(t, e1.reg, "acme", fmt.Sprintf("06123456%02d", i)).ID+".recorded")
		}
		time.Sleep(100 * time.Millisecond) // some failed attempts
		cancel()
		<-done
		// Recorded while no relay runs (the command line, say).
		for i := 5; i < 8; i++ {
			all = append(all, recordVia(t, e1.reg, "acme", fmt.Sprintf("06123456%02d", i)).ID+".recorded")
		}
		down.Lock()
		isDown = false
		down.Unlock()
		e2 := envOn(t, reopen(t), reopen, cfg)
		e2.runBackground()
		rcv.waitAll(all, 20*time.Second)
	})
}

// Two instances relay from one store: every event once acknowledged, in
// order per number, with failures thrown in.
func TestWebhooksTwoInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		rcv := newReceiver(t)
		rng := rand.New(rand.NewPCG(7, 8))
		rcv.fail = func(Event, int) int {
			if rng.IntN(4) == 0 {
				return http.StatusBadGateway
			}
			return 0
		}
		cfg := webhookConfig(rcv.ts.URL)
		st, reopen := b.open(t)
		e1 := envOn(t, st, reopen, cfg)
		e2 := envOn(t, reopen(t), reopen, cfg)
		e1.runBackground()
		e2.runBackground()
		waitTargets(t, e1)
		want := map[string][]string{}
		var all []string
		regs := []*objections.Register{e1.reg, e2.reg}
		for round := range 3 {
			for n := range 6 {
				reg := regs[(round+n)%2]
				o := recordVia(t, reg, "acme", fmt.Sprintf("06123457%02d", n))
				key := "acme/" + o.Number
				want[key] = append(want[key], o.ID+".recorded")
				all = append(all, o.ID+".recorded")
				if _, err := reg.Void(context.Background(), o.ID, "admin", "round "+strconv.Itoa(round)); err != nil {
					t.Fatal(err)
				}
				want[key] = append(want[key], o.ID+".voided")
				all = append(all, o.ID+".voided")
			}
		}
		rcv.waitAll(all, 30*time.Second)
		rcv.checkOrder(want)
	})
}
