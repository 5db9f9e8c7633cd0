package ari_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/telephony/ari"
	"github.com/verzet/verzet/telephony/ari/aritest"
)

// confirmWatch notes, for each channel, whether its objection was in the
// store at the moment the confirmation's play request reached Asterisk.
type confirmWatch struct {
	mu      sync.Mutex
	st      store
	durable map[string]bool
}

func (w *confirmWatch) hook(o *aritest.Options) {
	o.OnRequest = func(req aritest.Request) {
		if req.Method != "POST" || !strings.Contains(req.Path, "/play") || !strings.Contains(req.Query.Get("media"), "confirm-1") {
			return
		}
		id := strings.Split(req.Path, "/")[2]
		// The channel's number (0612345678 in these tests) must have an
		// objection: this call's, or an earlier one the store returned.
		list, err := w.st.Objections(context.Background(), objections.ObjectionFilter{Org: "acme", Number: "+31612345678", Limit: 1000})
		found := err == nil && len(list) > 0
		w.mu.Lock()
		w.durable[id] = found
		w.mu.Unlock()
	}
}

func (w *confirmWatch) durableBeforeConfirm(id string) (durable, seen bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	durable, seen = w.durable[id]
	return durable, seen
}

// TestDialoguePaths runs each path of the dialogue. Where the caller acts
// during the offer, the fake plays it until a key or the hang-up comes
// (offerUntilKey), so that the test does not depend on how fast this
// machine is; the no-key path plays the catalogue's lengths.
func TestDialoguePaths(t *testing.T) {
	catalogLengths := func(*aritest.Options) {}
	pressDuringOffer := func(digits string) func(r *rig, id string) {
		return func(r *rig, id string) {
			r.waitPlaying(id, "offer-1")
			time.Sleep(60 * time.Millisecond) // some of the offer is heard
			r.press(id, digits)
		}
	}
	cases := []struct {
		name      string
		offer     func(o *aritest.Options)
		act       func(r *rig, id string)
		outcome   objections.Outcome
		objection bool
		prompts   []string
		hungUpBy  string
		bargeIn   bool
	}{
		{name: "key 1 during the offer", offer: offerUntilKey, act: pressDuringOffer("1"), outcome: objections.OutcomeObjected, objection: true,
			prompts: []string{"offer", "confirm"}, hungUpBy: "app", bargeIn: true},
		{name: "key 2 during the offer", offer: offerUntilKey, act: pressDuringOffer("2"), outcome: objections.OutcomeDeclined,
			prompts: []string{"offer", "goodbye"}, hungUpBy: "app", bargeIn: true},
		{name: "no key", offer: catalogLengths, act: func(r *rig, id string) {}, outcome: objections.OutcomeNoInput,
			prompts: []string{"offer", "repeat", "offer", "goodbye"}, hungUpBy: "app"},
		{name: "invalid keys", offer: offerUntilKey, act: func(r *rig, id string) {
			for i := 1; i <= 3; i++ {
				r.waitFor("offer played again", func() bool {
					ch, _ := r.fake.Channel(id)
					return ch.Playing != "" && len(ch.Played) == 2*i-1
				})
				r.press(id, "7")
			}
		}, outcome: objections.OutcomeInvalidInput, prompts: []string{"offer", "invalid", "offer", "invalid", "offer", "goodbye"},
			hungUpBy: "app", bargeIn: true},
		{name: "hang-up during the offer", offer: offerUntilKey, act: func(r *rig, id string) {
			r.waitPlaying(id, "offer-1")
			time.Sleep(100 * time.Millisecond)
			if err := r.fake.HangUp(id); err != nil {
				t.Fatal(err)
			}
		}, outcome: objections.OutcomeHangupDuringPrompt, prompts: []string{"offer"}, hungUpBy: "caller"},
		{name: "hang-up right after key 1", offer: offerUntilKey, act: func(r *rig, id string) {
			r.waitPlaying(id, "offer-1")
			r.press(id, "1")
			if err := r.fake.HangUp(id); err != nil {
				t.Fatal(err)
			}
		}, outcome: objections.OutcomeObjected, objection: true, hungUpBy: "caller", bargeIn: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := openSQLite(t)
			w := &confirmWatch{st: st, durable: map[string]bool{}}
			r := newRig(t, rigOptions{store: st,
				fake: func(o *aritest.Options) { w.hook(o); tc.offer(o) },
				flow: func(f *ivr.Flow) { f.Timeout = 300 * time.Millisecond }})
			r.waitRegistered()
			start := time.Now()
			id := r.call(aritest.Call{})
			tc.act(r, id)
			o := r.offer(id)
			took := time.Since(start).Milliseconds()
			if o.Outcome != tc.outcome || o.BargeIn != tc.bargeIn || o.CampaignRef != "spring" || o.Provider != "ari" || o.Language != "nl" {
				t.Fatalf("offer = %+v", o)
			}
			r.waitFor("channel gone", func() bool { ch, _ := r.fake.Channel(id); return !ch.Alive })
			ch, _ := r.fake.Channel(id)
			if ch.HungUpBy != tc.hungUpBy {
				t.Errorf("hung up by %q, want %q", ch.HungUpBy, tc.hungUpBy)
			}
			if tc.prompts != nil && !slices.Equal(played(ch), tc.prompts) {
				t.Errorf("played %v, want %v", played(ch), tc.prompts)
			}
			objs := r.objections("acme")
			if tc.objection != (len(objs) == 1) || len(objs) > 1 {
				t.Fatalf("objections = %+v", objs)
			}
			if tc.objection {
				ob := objs[0]
				if ob.Number != "+31612345678" || ob.CallRef != id || ob.Source != objections.SourceIVRARI || ob.OfferID != o.ID {
					t.Errorf("objection = %+v", ob)
				}
				if durable, seen := w.durableBeforeConfirm(id); seen && !durable {
					t.Error("confirmation started before the objection was durable")
				} else if !seen && tc.hungUpBy == "app" {
					t.Error("no confirmation played")
				}
			}
			offer := offerPlayback(t, r.cat)
			switch tc.outcome {
			case objections.OutcomeHangupDuringPrompt:
				if o.PlayedMS <= 0 || o.PlayedMS >= offer.DurationMS {
					t.Errorf("played %d ms of a %d ms offer", o.PlayedMS, offer.DurationMS)
				}
			case objections.OutcomeNoInput:
				// Two whole offers as the fake's timestamps tell: no less
				// than its sounds last, no more than the call took.
				if heard := 2 * fakeMS(offer.Sounds); o.PlayedMS < heard || o.PlayedMS > took {
					t.Errorf("played %d ms, want two whole offers (%d ms) in a call of %d ms", o.PlayedMS, heard, took)
				}
			}
		})
	}
}

// offerPlayback is the offer the tests' calls hear.
func offerPlayback(t testing.TB, cat *prompts.Catalog) prompts.Playback {
	t.Helper()
	pb, err := cat.Compose("nl", "offer", prompts.Vars{OrgID: "acme", KeyObject: "1", KeyDecline: "2"})
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

// fakeMS is how long the rig's fake plays sounds (catalogDurations).
func fakeMS(sounds []prompts.Sound) int64 {
	var ms int64
	for _, s := range sounds {
		ms += s.DurationMS / speed
	}
	return ms
}

func TestContinueInDialplan(t *testing.T) {
	r := newRig(t, rigOptions{flow: func(f *ivr.Flow) { f.Continue = true }})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	r.waitPlaying(id, "offer-1")
	r.press(id, "1")
	r.wantOutcome(id, objections.OutcomeObjected)
	r.waitFor("continued", func() bool { ch, _ := r.fake.Channel(id); return ch.Continued })
	ch, _ := r.fake.Channel(id)
	if !ch.Alive || ch.HungUpBy != "" || ch.Vars[ari.VarResult] != "objected" || ch.ContinueContext != "" || ch.ContinuePriority != 0 {
		t.Fatalf("channel = %+v", ch)
	}
}

func TestCallContext(t *testing.T) {
	cases := []struct {
		name        string
		channelVars []string
		call        aritest.Call
		wantGets    int
		want        objections.Objection
		announced   bool
	}{
		{name: "arguments and variables, read with GET",
			call: aritest.Call{Args: []string{"acme", "campaign=summer", "VERZET_LEAD=L-1"},
				Vars: map[string]string{"VERZET_AGENT": "ag7", "VERZET_DIALER_CALL": "dc-9", "VERZET_ANNOUNCED": "ja", "VERZET_NUMBER": "+31 6 1234 5678", "VERZET_CAMPAIGN": "ignored"}},
			wantGets: 7, announced: true,
			want: objections.Objection{Org: "acme", Number: "+31612345678", CampaignRef: "summer", LeadRef: "L-1", AgentRef: "ag7", DialerCallRef: "dc-9"}},
		{name: "an agency's call for an advertiser",
			channelVars: channelVars,
			call:        aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_AGENCY": "CallCenter1", "VERZET_NUMBER": "0612345678"}},
			wantGets:    0,
			want:        objections.Objection{Org: "acme", Agency: "callcenter1", Number: "+31612345678"}},
		{name: "channelvars in the snapshot: no GET",
			channelVars: channelVars,
			call:        aritest.Call{Vars: map[string]string{"VERZET_ORG": "Acme", "VERZET_NUMBER": "0612345678", "VERZET_LEAD": "L-2"}},
			wantGets:    0,
			want:        objections.Objection{Org: "acme", Number: "+31612345678", LeadRef: "L-2"}},
		{name: "inbound: the caller id",
			call:     aritest.Call{Caller: "0201234567", Connected: "100", Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_DIRECTION": "inbound"}},
			wantGets: 10,
			want:     objections.Objection{Org: "acme", Number: "+31201234567"}},
		{name: "outbound by Dial(): the caller id is the dialled number",
			call:     aritest.Call{Caller: "0612345678", Connected: "0201234567", Vars: map[string]string{"VERZET_ORG": "acme"}},
			wantGets: 10,
			want:     objections.Objection{Org: "acme", Number: "+31612345678"}},
		{name: "outbound Originate: caller id is ours, number unknown",
			call:     aritest.Call{Caller: "0201234567", Connected: "0201234567", Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_DIALER_CALL": "dc-1"}},
			wantGets: 10,
			want:     objections.Objection{Org: "acme", Number: "", DialerCallRef: "dc-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{fake: func(o *aritest.Options) { o.ChannelVars = tc.channelVars }})
			r.waitRegistered()
			id := r.call(tc.call)
			r.waitPlaying(id, "offer-1")
			r.press(id, "1")
			o := r.offer(id)
			gets := 0
			for _, req := range r.fake.Requests() {
				if req.Method == "GET" && strings.HasSuffix(req.Path, "/variable") {
					gets++
				}
			}
			if gets != tc.wantGets {
				t.Errorf("%d GET variable requests, want %d", gets, tc.wantGets)
			}
			objs := r.objections("acme")
			if len(objs) != 1 {
				t.Fatalf("objections = %+v", objs)
			}
			got := objs[0]
			w := tc.want
			if got.Org != w.Org || got.Number != w.Number || got.CampaignRef != w.CampaignRef || got.LeadRef != w.LeadRef ||
				got.AgentRef != w.AgentRef || got.DialerCallRef != w.DialerCallRef || o.Announced != tc.announced ||
				got.Agency != w.Agency || o.Agency != w.Agency {
				t.Fatalf("objection = %+v\noffer announced = %v", got, o.Announced)
			}
			if w.Number == "" && got.Status != objections.StatusPendingNumber {
				t.Errorf("status %s, want pending_number", got.Status)
			}
		})
	}
}

func TestAnswersARingingChannel(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.waitRegistered()
	id := r.call(aritest.Call{State: "Ring"})
	r.waitPlaying(id, "offer-1")
	ch, _ := r.fake.Channel(id)
	if !ch.Answered {
		t.Fatal("channel not answered")
	}
	reqs := r.fake.Requests()
	answer := slices.IndexFunc(reqs, func(q aritest.Request) bool { return strings.HasSuffix(q.Path, "/answer") })
	play := slices.IndexFunc(reqs, func(q aritest.Request) bool { return strings.Contains(q.Path, "/play/") })
	if answer < 0 || play < answer {
		t.Fatalf("answer at %d, play at %d", answer, play)
	}
}

func TestNoOrgHandsTheChannelBack(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.waitRegistered()
	id := r.call(aritest.Call{Vars: map[string]string{"VERZET_NUMBER": "0612345678"}})
	r.waitFor("continued", func() bool { ch, _ := r.fake.Channel(id); return ch.Continued })
	ch, _ := r.fake.Channel(id)
	if ch.Vars[ari.VarResult] != "refused" || ch.Vars[ari.VarRefused] != "no_org" || len(ch.Played) != 0 {
		t.Fatalf("channel = %+v", ch)
	}
	if r.adapter.Stats().CallsRefused.Load() != 1 {
		t.Fatal("refusal not counted")
	}
}

// TestObjectionOnPostgres runs the key path against PostgreSQL: the
// objection is durable before the confirmation starts, and a second call
// from the same number pressing 1 does not make a second objection.
func TestObjectionOnPostgres(t *testing.T) {
	st := openPostgres(t)
	w := &confirmWatch{st: st, durable: map[string]bool{}}
	r := newRig(t, rigOptions{store: st, fake: w.hook})
	r.waitRegistered()
	for range 2 {
		id := r.call(aritest.Call{})
		r.waitPlaying(id, "offer-1")
		r.press(id, "1")
		r.wantOutcome(id, objections.OutcomeObjected)
		if durable, seen := w.durableBeforeConfirm(id); !seen || !durable {
			t.Fatalf("objection durable before the confirmation: %v (confirmation seen %v)", durable, seen)
		}
	}
	if objs := r.objections("acme"); len(objs) != 1 {
		t.Fatalf("objections = %+v", objs)
	}
}
