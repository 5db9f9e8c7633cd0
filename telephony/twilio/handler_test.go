package twilio

import (
	"context"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

// offerMS is the full playing time of acme's Dutch offer.
func offerMS(t testing.TB) int64 {
	t.Helper()
	pb, err := testCatalog(t).Compose("nl", prompts.Offer, prompts.Vars{OrgID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	return pb.DurationMS
}

// heardPrompts lists the prompts a transcript played, in order: the
// catalogue sound of each <Play> reduced to its prompt (nl/offer-2.wav is
// "offer"; key digits and the org's name are part of the prompt around
// them), or "say" for each <Say>.
func heardPrompts(tr *twiliotest.Transcript) []string {
	var out []string
	add := func(p string) {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	var walk func(vs []twiliotest.Verb)
	walk = func(vs []twiliotest.Verb) {
		for _, v := range vs {
			switch v.Name {
			case "Gather":
				walk(v.Children)
			case "Say":
				out = append(out, "say")
			case "Play":
				u, err := url.Parse(v.Text)
				if err != nil {
					continue
				}
				base := strings.TrimSuffix(path.Base(u.Path), ".wav")
				if strings.Contains(v.Text, "/digit/") || base == "org" {
					continue
				}
				if i := strings.LastIndex(base, "-"); i > 0 {
					base = base[:i]
				}
				add(base)
			}
		}
	}
	for _, s := range tr.Steps {
		walk(s.Verbs)
	}
	return out
}

// Every path of the dialogue, over HTTP, as Twilio drives it, on both
// stores: what the caller hears, and the evidence stored.
func TestDialoguePaths(t *testing.T) {
	full := offerMS(t)
	tests := []struct {
		name      string
		call      func(r *rig) twiliotest.Call
		config    func(*Config)
		heard     []string
		end       string
		outcome   objections.Outcome
		status    objections.Status // "" when no objection
		number    string
		presented string
		keys      int
		bargeIn   bool
		playedMS  int64
	}{
		{name: "objection key at once (barge-in)", call: func(r *rig) twiliotest.Call { return r.call("1") },
			heard: []string{"offer", "confirm"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusActive,
			number: customer, presented: callCentre, keys: 1, bargeIn: true, playedMS: 0},
		{name: "objection key after the whole offer", call: func(r *rig) twiliotest.Call { c := r.call("1"); c.Listen = true; return c },
			heard: []string{"offer", "confirm"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusActive,
			number: customer, presented: callCentre, keys: 1, bargeIn: false, playedMS: full},
		{name: "decline key", call: func(r *rig) twiliotest.Call { c := r.call("2"); c.Listen = true; return c },
			heard: []string{"offer", "goodbye"}, end: "hangup", outcome: objections.OutcomeDeclined,
			number: customer, presented: callCentre, keys: 1, playedMS: full},
		{name: "invalid key then objection", call: func(r *rig) twiliotest.Call { return r.call("7", "1") },
			heard: []string{"offer", "invalid", "offer", "confirm"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusActive,
			number: customer, presented: callCentre, keys: 2, bargeIn: true, playedMS: 0},
		{name: "three invalid keys", call: func(r *rig) twiliotest.Call { return r.call("7", "8", "9") },
			heard: []string{"offer", "invalid", "offer", "invalid", "offer", "goodbye"}, end: "hangup", outcome: objections.OutcomeInvalidInput,
			number: customer, presented: callCentre, keys: 3, bargeIn: true},
		{name: "no key twice", call: func(r *rig) twiliotest.Call { return r.call("", "") },
			heard: []string{"offer", "repeat", "offer", "goodbye"}, end: "hangup", outcome: objections.OutcomeNoInput,
			number: customer, presented: callCentre, playedMS: 2 * full},
		{name: "no key, then the objection key after the repeat", call: func(r *rig) twiliotest.Call { c := r.call("", "1"); c.Listen = true; return c },
			heard: []string{"offer", "repeat", "offer", "confirm"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusActive,
			number: customer, presented: callCentre, keys: 1, playedMS: 2 * full},
		{name: "hang-up during the offer", call: func(r *rig) twiliotest.Call { c := r.call(); c.HangupAt = 1; return c },
			heard: []string{"offer"}, end: "caller hung up", outcome: objections.OutcomeHangupDuringPrompt,
			// The status callback's Timestamp (whole seconds) dates the
			// hang-up: the estimate errs on the side of less heard.
			number: customer, presented: callCentre, playedMS: full / 2 / 1000 * 1000},
		{name: "inbound call to the objection line", call: func(r *rig) twiliotest.Call {
			c := r.call("1")
			c.Direction, c.From, c.To = "inbound", customer, callCentre
			return c
		}, heard: []string{"offer", "confirm"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusActive,
			number: customer, presented: callCentre, keys: 1, bargeIn: true},
		{name: "withheld caller id: pending number", call: func(r *rig) twiliotest.Call {
			c := r.call("1")
			c.Direction, c.From, c.To = "inbound", "anonymous", callCentre
			return c
		}, heard: []string{"offer", "confirm"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusPendingNumber,
			number: "", presented: callCentre, keys: 1, bargeIn: true},
		{name: "number from the dialer wins over To", call: func(r *rig) twiliotest.Call {
			c := r.call("1")
			c.VoiceURL += "&number=06+8765+4321"
			c.To = "+31611111111"
			return c
		}, heard: []string{"offer", "confirm"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusActive,
			number: "+31687654321", presented: callCentre, keys: 1, bargeIn: true},
		{name: "text to speech", call: func(r *rig) twiliotest.Call { return r.call("1") }, config: func(c *Config) {
			c.Voices = map[string]Voice{"": {Name: "Polly.Lotte"}}
		}, heard: []string{"say", "say"}, end: "hangup", outcome: objections.OutcomeObjected, status: objections.StatusActive,
			number: customer, presented: callCentre, keys: 1, bargeIn: true},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					var opts []rigOption
					if tc.config != nil {
						opts = append(opts, withConfig(tc.config))
					}
					r := newRig(t, b.open(t), opts...)
					tr := r.run(tc.call(r))
					if got := heardPrompts(tr); !slices.Equal(got, tc.heard) {
						t.Errorf("heard %v, want %v\n%s", got, tc.heard, tr)
					}
					if tr.End != tc.end {
						t.Errorf("end %q, want %q\n%s", tr.End, tc.end, tr)
					}
					offers := r.offers()
					if len(offers) != 1 {
						t.Fatalf("%d offers, want 1: %+v", len(offers), offers)
					}
					o := offers[0]
					if o.Outcome != tc.outcome || o.Number != tc.number || o.PresentedNumber != tc.presented || len(o.Keys) != tc.keys ||
						o.BargeIn != tc.bargeIn || o.Provider != "twilio" || o.CallRef != tr.CallSid || o.Language != "nl" ||
						o.PromptID != string(prompts.Offer) || o.PromptVersion == "" || o.PromptHash == "" || o.Org != "acme" {
						t.Errorf("offer = %+v", o)
					}
					if o.PlayedMS < tc.playedMS-1 || o.PlayedMS > tc.playedMS+1 {
						t.Errorf("offer played %d ms, want %d", o.PlayedMS, tc.playedMS)
					}
					if o.CampaignRef != "spring" || o.LeadRef != "L1" || o.AgentRef != "A7" || o.DialerCallRef != "D9" || !o.Announced {
						t.Errorf("offer context = %+v", o)
					}
					// The call's record is closed.
					if rec, _ := r.record(tr.CallSid); rec == nil || rec.State.Phase != ivr.PhaseDone {
						t.Errorf("call record = %+v", rec)
					}
					objs := r.objections()
					if tc.status == "" {
						if len(objs) != 0 || o.ObjectionID != "" {
							t.Fatalf("objections = %+v, want none", objs)
						}
						return
					}
					if len(objs) != 1 {
						t.Fatalf("%d objections, want 1: %+v", len(objs), objs)
					}
					ob := objs[0]
					if ob.Status != tc.status || ob.Number != tc.number || ob.Source != objections.SourceIVRTwilio || ob.Provider != "twilio" ||
						ob.CallRef != tr.CallSid || ob.OfferID != o.ID || o.ObjectionID != ob.ID || ob.CampaignRef != "spring" ||
						ob.LeadRef != "L1" || ob.AgentRef != "A7" || ob.DialerCallRef != "D9" || ob.Org != "acme" {
						t.Errorf("objection = %+v (offer %s)", ob, o.ID)
					}
				})
			}
		})
	}
}

// The objection is durable before the TwiML that confirms it is answered.
func TestObjectionDurableBeforeConfirmation(t *testing.T) {
	r := newRig(t, openSQLite(t))
	s := sid(1)
	if code, _ := r.post(r.voiceURL("org=acme"), form(s)); code != 200 {
		t.Fatalf("voice: %d", code)
	}
	code, body := r.post(r.public+PathGather+"?lang=nl&org=acme&step=1", form(s, "Digits", "1"))
	verbs, err := twiliotest.ParseTwiML([]byte(body))
	if code != 200 || err != nil {
		t.Fatalf("gather: %d %v %s", code, err, body)
	}
	// By the time the confirmation reaches Twilio, the register blocks the number.
	d, err := r.reg.Decide(context.Background(), "acme", customer, "", time.Time{})
	if err != nil || d.Callable || d.Objection == nil {
		t.Fatalf("decision right after the confirmation: %+v %v", d, err)
	}
	if len(verbs) == 0 || verbs[len(verbs)-1].Name != "Hangup" || !strings.Contains(verbs[0].Text, "/prompts/nl/confirm-") {
		t.Fatalf("confirmation TwiML = %s", body)
	}
}

func TestParamsOfActionURLs(t *testing.T) {
	r := newRig(t, openSQLite(t), withConfig(func(c *Config) { c.DefaultOrg = "beta" }))
	s := sid(2)
	_, body := r.post(r.voiceURL("campaign=spring+sale&announced=1"), form(s))
	verbs, err := twiliotest.ParseTwiML([]byte(body))
	if err != nil || len(verbs) != 2 {
		t.Fatalf("voice TwiML: %v %s", err, body)
	}
	action, _ := url.Parse(verbs[0].Attrs["action"])
	// The org came from the default, the language from the org's flow;
	// both are pinned on the action URL for the rest of the call.
	want := url.Values{"org": {"beta"}, "lang": {"nl"}, "campaign": {"spring sale"}, "announced": {"1"}, "step": {"1"}}
	if got := action.Query(); !equalValues(got, want) || action.Path != PathGather {
		t.Fatalf("action = %s, want query %v", action, want)
	}
	if verbs[1].Name != "Redirect" || verbs[1].Text != verbs[0].Attrs["action"] || verbs[1].Attrs["method"] != "POST" {
		t.Fatalf("redirect = %+v", verbs[1])
	}
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !slices.Equal(a[k], b[k]) {
			return false
		}
	}
	return true
}
