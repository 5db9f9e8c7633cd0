package twilio

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

func gatherURL(r *rig, step int) string {
	return fmt.Sprintf("%s%s?lang=nl&org=acme&step=%d", r.public, PathGather, step)
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A retried webhook (same CallSid, same step) gets the same TwiML and
// records nothing twice; a voice webhook retried too.
func TestRetriedWebhooks(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := newRig(t, b.open(t))
			s := sid(1)
			_, voice1 := r.post(r.voiceURL("org=acme"), form(s))
			_, voice2 := r.post(r.voiceURL("org=acme"), form(s))
			if voice1 != voice2 {
				t.Fatalf("retried voice webhook answered differently:\n%s\n%s", voice1, voice2)
			}
			_, invalid := r.post(gatherURL(r, 1), form(s, "Digits", "7"))
			_, confirm := r.post(gatherURL(r, 2), form(s, "Digits", "1"))
			// Retries of both steps, in any order, even after the call moved on.
			for _, retry := range []struct {
				step   int
				digits string
				want   string
			}{{2, "1", confirm}, {1, "7", invalid}, {2, "1", confirm}, {1, "1", invalid}} {
				if _, got := r.post(gatherURL(r, retry.step), form(s, "Digits", retry.digits)); got != retry.want {
					t.Fatalf("retry of step %d answered\n%s\nwant\n%s", retry.step, got, retry.want)
				}
			}
			if !strings.Contains(confirm, "/confirm-") || !strings.Contains(invalid, "/invalid.wav") {
				t.Fatalf("unexpected TwiML:\n%s\n%s", invalid, confirm)
			}
			objs, offers := r.objections(), r.offers()
			if len(objs) != 1 || len(offers) != 1 || len(offers[0].Keys) != 2 {
				t.Fatalf("objections %d, offers %+v", len(objs), offers)
			}
			if rec, version := r.record(s); rec.Next != 3 || version != 3 {
				t.Fatalf("record next %d version %d, want 3 and 3 (retries write nothing)", rec.Next, version)
			}
		})
	}
}

// The same webhook delivered many times at once (Twilio's retry racing a
// slow first attempt, or a proxy's retry) answers the same TwiML and
// records one objection.
func TestConcurrentDuplicateWebhooks(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := newRig(t, b.open(t))
			s := sid(2)
			r.post(r.voiceURL("org=acme"), form(s))
			const n = 8
			answers := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := r.sim.Post(context.Background(), gatherURL(r, 1), form(s, "Digits", "1"))
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					answers[i] = readAll(resp)
				}()
			}
			wg.Wait()
			for i := 1; i < n; i++ {
				if answers[i] != answers[0] {
					t.Fatalf("answer %d differs:\n%s\n%s", i, answers[i], answers[0])
				}
			}
			if objs, offers := r.objections(), r.offers(); len(objs) != 1 || len(offers) != 1 || offers[0].Outcome != objections.OutcomeObjected {
				t.Fatalf("objections %d, offers %+v", len(objs), offers)
			}
		})
	}
}

// Status callbacks: a hang-up during the offer closes it with the ms
// heard; duplicates and callbacks overtaken by a later one change nothing;
// one after the dialogue ended changes nothing either.
func TestStatusCallbacks(t *testing.T) {
	full := offerMS(t)
	status := func(r *rig, s string, seq int, callStatus string) int {
		code, _ := r.post(r.public+PathStatus, form(s, "CallStatus", callStatus, "CallbackSource", "call-progress-events",
			"SequenceNumber", fmt.Sprint(seq)))
		return code
	}
	tests := []struct {
		name     string
		script   func(r *rig, s string)
		outcome  objections.Outcome
		playedMS int64
		endedBy  string
	}{
		{"completed during the offer", func(r *rig, s string) {
			r.clock.Advance(1500 * time.Millisecond)
			status(r, s, 3, "completed")
		}, objections.OutcomeHangupDuringPrompt, 1500, objections.EndedByCaller},
		{"completed after the offer, waiting for a key", func(r *rig, s string) {
			r.clock.Advance(time.Duration(full+2000) * time.Millisecond)
			status(r, s, 3, "completed")
		}, objections.OutcomeHangupDuringPrompt, full, objections.EndedByCaller},
		{"duplicate completed", func(r *rig, s string) {
			r.clock.Advance(time.Second)
			status(r, s, 3, "completed")
			r.clock.Advance(time.Second)
			status(r, s, 3, "completed")
		}, objections.OutcomeHangupDuringPrompt, 1000, objections.EndedByCaller},
		{"in-progress overtaken by completed", func(r *rig, s string) {
			r.clock.Advance(time.Second)
			status(r, s, 3, "completed")
			status(r, s, 2, "in-progress")
		}, objections.OutcomeHangupDuringPrompt, 1000, objections.EndedByCaller},
		{"in-progress, then completed in order", func(r *rig, s string) {
			status(r, s, 2, "in-progress")
			r.clock.Advance(2 * time.Second)
			status(r, s, 3, "completed")
		}, objections.OutcomeHangupDuringPrompt, 2000, objections.EndedByCaller},
		{"failed: the network ended it", func(r *rig, s string) {
			status(r, s, 3, "failed")
		}, objections.OutcomeHangupDuringPrompt, 0, objections.EndedByProvider},
		{"completed after the objection", func(r *rig, s string) {
			r.post(gatherURL(r, 1), form(s, "Digits", "1"))
			r.clock.Advance(10 * time.Second)
			status(r, s, 3, "completed")
		}, objections.OutcomeObjected, 0, objections.EndedBySystem},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := newRig(t, b.open(t))
					s := sid(3)
					r.post(r.voiceURL("org=acme"), form(s))
					tc.script(r, s)
					offers := r.offers()
					if len(offers) != 1 || offers[0].Outcome != tc.outcome || offers[0].PlayedMS != tc.playedMS || offers[0].EndedBy != tc.endedBy {
						t.Fatalf("offers = %+v; want %s, %d ms, ended by %s", offers, tc.outcome, tc.playedMS, tc.endedBy)
					}
				})
			}
			t.Run("unknown call", func(t *testing.T) {
				r := newRig(t, b.open(t))
				if code := status(r, sid(9), 3, "completed"); code != http.StatusNoContent {
					t.Fatalf("status for an unknown call: %d", code)
				}
				if rec, _ := r.record(sid(9)); rec != nil || len(r.offers()) != 0 {
					t.Fatalf("an unknown call's status callback wrote")
				}
			})
			t.Run("fixture 04 after fixture 01", func(t *testing.T) {
				r := newRig(t, b.open(t), behindProxy("https://ivr.example.nl"))
				replay(t, r, "01-voice-ivr-entry.txt", PathVoice+"?org=acme", 200)
				replay(t, r, "04-status-callback-completed.txt", PathStatus, 204)
				replay(t, r, "04-status-callback-completed.txt", PathStatus, 204)
				if offers := r.offers(); len(offers) != 1 || offers[0].Outcome != objections.OutcomeHangupDuringPrompt {
					t.Fatalf("offers = %+v", offers)
				}
			})
		})
	}
}

// replay posts a fixture's body byte for byte to a path of the rig,
// signed for that URL, and checks the status.
func replay(t *testing.T, r *rig, file, pathQuery string, want int) string {
	t.Helper()
	body := fixture(t, file)
	target := r.public + pathQuery
	f, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	code, resp := r.send(r.newRequest(target, target, testToken, f, string(body)))
	if code != want {
		t.Fatalf("%s → %s: %d %s", file, pathQuery, code, resp)
	}
	return resp
}

// Twilio's real request shapes go through: the Dial action after the
// agent hung up (05), the gather without Digits (03), the gather with
// Digits=1 and an empty FinishedOnKey (02), the inbound call (06).
func TestFixturesThroughTheHandler(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := newRig(t, b.open(t), behindProxy("https://ivr.example.nl"))
			doc := replay(t, r, "05-dial-action-agent-hangup.txt", PathVoice+"?org=acme&campaign=spring", 200)
			if verbs, err := twiliotest.ParseTwiML([]byte(doc)); err != nil || verbs[0].Name != "Gather" {
				t.Fatalf("dial action answer: %v %s", err, doc)
			}
			doc = replay(t, r, "03-gather-no-digits.txt", PathGather+"?campaign=spring&lang=nl&org=acme&step=1", 200)
			if !strings.Contains(doc, "/prompts/nl/repeat.wav") {
				t.Fatalf("no-digits answer is not the repeat:\n%s", doc)
			}
			doc = replay(t, r, "02-gather-digits-1.txt", PathGather+"?campaign=spring&lang=nl&org=acme&step=2", 200)
			if !strings.Contains(doc, "/prompts/nl/confirm-") {
				t.Fatalf("Digits=1 answer is not the confirmation:\n%s", doc)
			}
			objs := r.objections()
			if len(objs) != 1 || objs[0].Number != customer || objs[0].CallRef != "CA1f2e3d4c5b6a79880a1b2c3d4e5f6071" || objs[0].CampaignRef != "spring" {
				t.Fatalf("objections = %+v", objs)
			}
			// 06: a customer calls the number: From is the customer.
			replay(t, r, "06-voice-inbound-ringing.txt", PathVoice+"?org=acme", 200)
			if rec, _ := r.record("CA5a5b5c5d5e5f60616263646566676869"); rec == nil || rec.Call.Number != customer || rec.Call.Presented != callCentre {
				t.Fatalf("inbound record = %+v", rec)
			}
		})
	}
}

// A Dial action for a customer who already hung up gets an empty
// <Response/>, and the offer is closed with nothing played.
func TestVoiceAfterCustomerHungUp(t *testing.T) {
	r := newRig(t, openSQLite(t))
	code, body := r.post(r.voiceURL("org=acme"), form(sid(4), "CallStatus", "completed", "DialCallStatus", "completed"))
	verbs, err := twiliotest.ParseTwiML([]byte(body))
	if code != 200 || err != nil || len(verbs) != 0 {
		t.Fatalf("%d %v %s, want an empty <Response>", code, err, body)
	}
	if offers := r.offers(); len(offers) != 1 || offers[0].Outcome != objections.OutcomeHangupDuringPrompt || offers[0].PlayedMS != 0 {
		t.Fatalf("offers = %+v", offers)
	}
}

// A gather webhook for a call verzet has no record of resumes from the
// action URL's context: the objection key is never lost.
func TestUnknownCallAtGather(t *testing.T) {
	tests := []struct {
		name    string
		digits  string
		heard   string
		outcome objections.Outcome // of the offer once the dialogue ends; "" still open
		objects bool
	}{
		{"objection key", "1", "/prompts/nl/confirm-", objections.OutcomeObjected, true},
		{"decline key", "2", "/prompts/nl/goodbye.wav", objections.OutcomeDeclined, false},
		{"invalid key", "5", "/prompts/nl/invalid.wav", "", false},
		{"no key", "", "/prompts/nl/repeat.wav", "", false},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := newRig(t, b.open(t))
					s := sid(5)
					target := r.public + PathGather + "?campaign=autumn&lang=nl&lead=L5&org=acme&step=3"
					code, body := r.post(target, form(s, "Digits", tc.digits))
					if code != 200 || !strings.Contains(body, tc.heard) {
						t.Fatalf("%d, want %s in\n%s", code, tc.heard, body)
					}
					rec, _ := r.record(s)
					if rec == nil || !rec.Resumed || rec.Next != 4 || rec.Call.Campaign != "autumn" || rec.Call.Lead != "L5" || rec.Call.Number != customer {
						t.Fatalf("record = %+v", rec)
					}
					objs := r.objections()
					if tc.objects != (len(objs) == 1) || len(objs) > 1 {
						t.Fatalf("objections = %+v", objs)
					}
					if tc.objects && (objs[0].CampaignRef != "autumn" || objs[0].LeadRef != "L5" || objs[0].Number != customer) {
						t.Fatalf("objection context = %+v", objs[0])
					}
					offers := r.offers()
					if tc.outcome == "" {
						if len(offers) != 0 {
							t.Fatalf("offer closed early: %+v", offers)
						}
						return
					}
					// Nothing is known of how much was heard: 0 ms, barge-in.
					if len(offers) != 1 || offers[0].Outcome != tc.outcome || offers[0].PlayedMS != 0 || !offers[0].BargeIn {
						t.Fatalf("offers = %+v", offers)
					}
				})
			}
		})
	}
}

// The caller presses 1 and hangs up at once: the status callback can be
// handled before the gather webhook. The objection still stands.
func TestObjectionKeyAfterStatusCallback(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := newRig(t, b.open(t))
			s := sid(6)
			r.post(r.voiceURL("org=acme"), form(s))
			r.clock.Advance(time.Second)
			r.post(r.public+PathStatus, form(s, "CallStatus", "completed", "SequenceNumber", "3"))
			code, body := r.post(gatherURL(r, 1), form(s, "Digits", "1"))
			if code != 200 || !strings.Contains(body, "<Hangup>") {
				t.Fatalf("late key: %d %s", code, body)
			}
			objs := r.objections()
			if len(objs) != 1 || objs[0].Number != customer || objs[0].Status != objections.StatusActive || !strings.Contains(objs[0].Note, "after the call had ended") {
				t.Fatalf("objections = %+v", objs)
			}
			if offers := r.offers(); len(offers) != 1 || offers[0].ID != objs[0].OfferID {
				t.Fatalf("offers = %+v", offers)
			}
			// The late key's retry records nothing more.
			r.post(gatherURL(r, 1), form(s, "Digits", "1"))
			if len(r.objections()) != 1 {
				t.Fatal("retry of the late key recorded again")
			}
		})
	}
}

// Two verzet instances on one PostgreSQL share a call: each webhook may go
// to either; racing webhooks of one call are serialised by the record's
// version.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	k := newClock()
	a := newRig(t, openPostgresDSN(t, dsn, true), withClock(k))
	b := newRig(t, openPostgresDSN(t, dsn, false), withClock(k))
	s := sid(7)
	// Voice on A, the invalid key on B, the retry of that on A, the
	// objection on B, the status on A.
	a.post(a.voiceURL("org=acme"), form(s))
	_, invalidB := b.post(gatherURL(b, 1), form(s, "Digits", "9"))
	_, invalidA := a.post(gatherURL(a, 1), form(s, "Digits", "9"))
	// Stored TwiML is answered as stored (in production every instance has
	// the same VERZET_PUBLIC_URL; here the URLs name B's listen address).
	if invalidA != invalidB || !strings.Contains(invalidB, "/invalid.wav") {
		t.Fatalf("the retry on the other instance answered differently:\n%s\n%s", invalidA, invalidB)
	}
	_, confirm := b.post(gatherURL(b, 2), form(s, "Digits", "1"))
	if !strings.Contains(confirm, "/confirm-") {
		t.Fatalf("confirmation:\n%s", confirm)
	}
	a.post(a.public+PathStatus, form(s, "CallStatus", "completed", "SequenceNumber", "3"))
	if objs, offers := a.objections(), b.offers(); len(objs) != 1 || len(offers) != 1 || len(offers[0].Keys) != 2 || offers[0].Outcome != objections.OutcomeObjected {
		t.Fatalf("objections %+v offers %+v", objs, offers)
	}

	// Many calls, each gather and status webhook sent to both instances at once.
	const calls = 20
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, number := sid(100+i), fmt.Sprintf("0612%06d", i)
			a.post(a.voiceURL("org=acme&number="+number), form(s))
			var both sync.WaitGroup
			for _, r := range []*rig{a, b} {
				both.Add(1)
				go func() {
					defer both.Done()
					r.post(gatherURL(r, 1)+"&number="+number, form(s, "Digits", "1"))
					r.post(r.public+PathStatus, form(s, "CallStatus", "completed", "SequenceNumber", "3"))
				}()
			}
			both.Wait()
		}()
	}
	wg.Wait()
	objs, offers := a.objections(), a.offers()
	if len(objs) != 1+calls || len(offers) != 1+calls {
		t.Fatalf("%d objections, %d offers; want %d each", len(objs), len(offers), 1+calls)
	}
	for _, o := range offers {
		if o.Outcome != objections.OutcomeObjected {
			t.Fatalf("offer %+v", o)
		}
	}
	t.Logf("optimistic retries: A %d, B %d", a.handler.Stats().Conflicts.Load(), b.handler.Stats().Conflicts.Load())
}

// flakyCalls fails loads or saves on demand: the store behind the call
// records is down.
type flakyCalls struct {
	Calls
	mu                 sync.Mutex
	failLoad, failSave bool
}

func (f *flakyCalls) set(load, save bool) {
	f.mu.Lock()
	f.failLoad, f.failSave = load, save
	f.mu.Unlock()
}

func (f *flakyCalls) LoadCall(ctx context.Context, p, ref string) (objections.CallState, error) {
	f.mu.Lock()
	fail := f.failLoad
	f.mu.Unlock()
	if fail {
		return objections.CallState{}, objections.Unavailable("load call state", context.DeadlineExceeded)
	}
	return f.Calls.LoadCall(ctx, p, ref)
}

func (f *flakyCalls) SaveCall(ctx context.Context, st objections.CallState) error {
	f.mu.Lock()
	fail := f.failSave
	f.mu.Unlock()
	if fail {
		return objections.Unavailable("save call state", context.DeadlineExceeded)
	}
	return f.Calls.SaveCall(ctx, st)
}

// When the call records cannot be read or saved, every webhook is still
// answered with TwiML (never a 5xx, which makes Twilio play its error
// message), and the objection key is still recorded.
func TestCallRecordsUnavailable(t *testing.T) {
	flaky := &flakyCalls{}
	r := newRig(t, openSQLite(t), withCalls(func(c Calls) Calls { flaky.Calls = c; return flaky }))
	s := sid(8)
	flaky.set(false, true)
	if code, body := r.post(r.voiceURL("org=acme"), form(s)); code != 200 || !strings.Contains(body, "<Gather") {
		t.Fatalf("voice without saving: %d %s", code, body)
	}
	flaky.set(true, true)
	code, body := r.post(gatherURL(r, 1), form(s, "Digits", "1"))
	if code != 200 || !strings.Contains(body, "/confirm-") {
		t.Fatalf("gather without the record: %d %s", code, body)
	}
	if objs := r.objections(); len(objs) != 1 || objs[0].Number != customer {
		t.Fatalf("objections = %+v", objs)
	}
	if r.handler.Stats().StoreErrors.Load() == 0 {
		t.Fatal("store errors not counted")
	}
	// The store is back: a later status callback finds nothing to change.
	flaky.set(false, false)
	if code, _ := r.post(r.public+PathStatus, form(s, "CallStatus", "completed", "SequenceNumber", "3")); code != 204 {
		t.Fatalf("status: %d", code)
	}
	if offers := r.offers(); len(offers) != 1 || offers[0].Outcome != objections.OutcomeObjected {
		t.Fatalf("offers = %+v", offers)
	}
}
