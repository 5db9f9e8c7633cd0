package ivr

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// ev parses a compact event: start, key:1, late:1, end:offer:4000, timeout,
// hangup:1200, recorded, spooled, failed, playfail:offer:0; "+N" suffix =
// N ms after t0.
func ev(t *testing.T, s string) Event {
	t.Helper()
	at := t0
	if i := strings.LastIndex(s, "+"); i > 0 {
		ms, err := strconv.Atoi(s[i+1:])
		if err != nil {
			t.Fatalf("bad event %q", s)
		}
		at, s = t0.Add(time.Duration(ms)*time.Millisecond), s[:i]
	}
	parts := strings.Split(s, ":")
	num := func(i int) int64 {
		n, _ := strconv.ParseInt(parts[i], 10, 64)
		return n
	}
	switch parts[0] {
	case "start":
		return Event{Kind: EvStart, At: at}
	case "key":
		return Event{Kind: EvDigit, At: at, Digit: parts[1]}
	case "late":
		return Event{Kind: EvLateDigit, At: at, Digit: parts[1]}
	case "end":
		return Event{Kind: EvPromptEnded, At: at, Prompt: prompts.ID(parts[1]), PlayedMS: num(2)}
	case "timeout":
		return Event{Kind: EvTimeout, At: at}
	case "hangup":
		return Event{Kind: EvHangup, At: at, PlayedMS: num(1)}
	case "recorded":
		return Event{Kind: EvRecorded, At: at, ObjectionID: "obj-1"}
	case "spooled":
		return Event{Kind: EvRecorded, At: at, ObjectionID: "obj-1", Spooled: true}
	case "failed":
		return Event{Kind: EvRecordFailed, At: at}
	case "playfail":
		return Event{Kind: EvPromptFailed, At: at, Prompt: prompts.ID(parts[1]), PlayedMS: num(2), Reason: "playback_failed: sound:x not found"}
	}
	t.Fatalf("bad event %q", s)
	return Event{}
}

func describe(acts []Action) string {
	var out []string
	for _, a := range acts {
		switch a.Kind {
		case ActPlay, ActStop:
			out = append(out, a.Kind.String()+":"+string(a.Prompt))
		case ActClose:
			out = append(out, "close:"+string(a.Offer.Outcome))
		default:
			out = append(out, a.Kind.String())
		}
	}
	return strings.Join(out, " ")
}

func TestMachine(t *testing.T) {
	ctx := Context{Org: "acme", Number: "+31612345678", Provider: "ari", CallRef: "c1", Language: "nl", CampaignRef: "spring"}
	us := DefaultFlow()
	us.Profile, us.KeyDecline = ProfileUS, ""
	cont := DefaultFlow()
	cont.Continue = true
	hangupOnError := DefaultFlow()
	hangupOnError.HangupOnError = true
	type step struct{ event, want string }
	tests := []struct {
		name    string
		flow    Flow
		steps   []step
		outcome objections.Outcome
		keys    string
		offerMS int64
		bargeIn bool
	}{
		{"1 after the offer: record, then confirm, then hang up", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:1+5000", "record"},
			{"recorded+5010", "play:confirm"},
			{"end:confirm:3000+8010", "close:objected hangup"},
		}, objections.OutcomeObjected, "1", 4000, false},
		{"1 during the offer is a barge-in", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:1+1500", "stop:offer record"},
			{"end:offer:1500+1510", ""},
			{"recorded+1520", "play:confirm"},
			{"end:confirm:3000+4520", "close:objected hangup"},
		}, objections.OutcomeObjected, "1", 1500, true},
		{"2 declines: goodbye", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:2+4500", "play:goodbye"},
			{"end:goodbye:1000+5500", "close:declined hangup"},
		}, objections.OutcomeDeclined, "2", 4000, false},
		{"invalid key: invalid, re-offer, then 1", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:5+4200", "play:invalid"},
			{"end:invalid:1000+5200", "play:offer collect"},
			{"end:offer:4000+9200", ""},
			{"key:1+9300", "record"},
			{"recorded+9310", "play:confirm"},
			{"end:confirm:3000+12310", "close:objected hangup"},
		}, objections.OutcomeObjected, "51", 8000, false},
		{"three invalid keys: at most two repeats, then goodbye", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:#+100", "stop:offer play:invalid"},
			{"key:*+200", "stop:invalid play:invalid"},
			{"key:9+300", "stop:invalid play:goodbye"},
			{"end:goodbye:1000+1300", "close:invalid_input hangup"},
		}, objections.OutcomeInvalidInput, "#*9", 0, true},
		{"two keys at once (12) are an invalid answer", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:12+4100", "play:invalid"},
		}, "", "12", 4000, false},
		{"a non-DTMF character is invalid and not kept as a key", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:x+4100", "play:invalid"},
		}, "", "", 4000, false},
		{"no key: repeat once, then goodbye", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"timeout+10000", "play:repeat"},
			{"end:repeat:800+10800", "play:offer collect"},
			{"end:offer:4000+14800", ""},
			{"timeout+20800", "play:goodbye"},
			{"end:goodbye:1000+21800", "close:no_input hangup"},
		}, objections.OutcomeNoInput, "", 8000, false},
		{"a timeout while the offer plays is stale", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"timeout+100", ""},
		}, "", "", 0, false},
		{"hang-up during the offer", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"hangup:1200+1200", "close:hangup_during_prompt"},
			{"end:offer:1200+1210", ""},
			{"key:1+1300", ""},
		}, objections.OutcomeHangupDuringPrompt, "", 1200, false},
		{"1 then hang-up before the write returns: the objection stands", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:1+900", "stop:offer record"},
			{"hangup:0+905", ""},
			{"recorded+950", "close:objected"},
		}, objections.OutcomeObjected, "1", 0, true},
		{"hang-up during the confirmation keeps the outcome", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:1+900", "stop:offer record"},
			{"recorded+950", "play:confirm"},
			{"hangup:0+1500", "close:objected"},
		}, objections.OutcomeObjected, "1", 0, true},
		{"repeated digit within 300 ms is one press", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:5+4100", "play:invalid"},
			{"key:5+4250", ""},
			{"key:5+4500", "stop:invalid play:invalid"},
		}, "", "55", 4000, true},
		{"keys after the choice are evidence only", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:1+4100", "record"},
			{"key:2+4150", ""},
			{"recorded+4200", "play:confirm"},
			{"key:3+4300", ""},
			{"end:confirm:3000+7200", "close:objected hangup"},
		}, objections.OutcomeObjected, "123", 4000, false},
		{"store and spool failed: apology, outcome error", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:1+900", "stop:offer record"},
			{"failed+1000", "play:sorry"},
			{"end:sorry:2000+3000", "close:error hangup"},
		}, objections.OutcomeError, "1", 0, true},
		{"spooled counts as recorded: the caller hears the confirmation", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:1+900", "stop:offer record"},
			{"spooled+1000", "play:confirm"},
			{"end:confirm:3000+4000", "close:objected hangup"},
		}, objections.OutcomeObjected, "1", 0, true},
		{"US profile: record and end at once, no confirmation", us, []step{
			{"start", "play:offer collect"},
			{"key:1+1000", "stop:offer record"},
			{"recorded+1010", "close:objected hangup"},
		}, objections.OutcomeObjected, "1", 0, true},
		{"US profile has no decline key: 2 is invalid", us, []step{
			{"start", "play:offer collect"},
			{"end:offer:3000+3000", ""},
			{"key:2+3100", "play:invalid"},
		}, "", "2", 3000, false},
		{"continue in the dialplan instead of hanging up", cont, []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"key:2+4100", "play:goodbye"},
			{"end:goodbye:1000+5100", "close:declined continue"},
		}, objections.OutcomeDeclined, "2", 4000, false},
		{"hang-up before the dialogue started", DefaultFlow(), []step{
			{"hangup:0", "close:hangup_during_prompt"},
			{"start+10", ""},
		}, objections.OutcomeHangupDuringPrompt, "", 0, false},
		{"events after the end change nothing", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:2+100", "stop:offer play:goodbye"},
			{"end:goodbye:1000+1100", "close:declined hangup"},
			{"key:1+1200", ""},
			{"hangup:0+1300", ""},
			{"recorded+1400", ""},
		}, objections.OutcomeDeclined, "2", 0, true},
		{"a late objection key after the end is recorded once", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"hangup:1200+1200", "close:hangup_during_prompt"},
			{"late:1+1300", "record"},
			{"recorded+1310", ""},
			{"late:1+1400", ""},
		}, objections.OutcomeHangupDuringPrompt, "", 1200, false},
		{"a late key other than the objection key changes nothing", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"hangup:1200+1200", "close:hangup_during_prompt"},
			{"late:2+1300", ""},
		}, objections.OutcomeHangupDuringPrompt, "", 1200, false},
		{"a late objection key after an objection changes nothing", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:1+900", "stop:offer record"},
			{"recorded+950", "play:confirm"},
			{"end:confirm:3000+3950", "close:objected hangup"},
			{"late:1+4000", ""},
		}, objections.OutcomeObjected, "1", 0, true},
		{"the offer fails to play: outcome error, handed back, not left waiting", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"playfail:offer:0+2", "close:error continue"},
			{"timeout+10000", ""},
			{"key:1+10100", ""},
		}, objections.OutcomeError, "", 0, false},
		{"a failed offer with hangup on error hangs up", hangupOnError, []step{
			{"start", "play:offer collect"},
			{"playfail:offer:1200+1200", "close:error hangup"},
		}, objections.OutcomeError, "", 1200, false},
		{"the repeat fails: outcome error", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"end:offer:4000+4000", ""},
			{"timeout+10000", "play:repeat"},
			{"playfail:repeat:0+10001", "close:error continue"},
		}, objections.OutcomeError, "", 4000, false},
		{"a failed confirmation keeps the objection", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:1+900", "stop:offer record"},
			{"recorded+950", "play:confirm"},
			{"playfail:confirm:0+951", "close:objected hangup"},
		}, objections.OutcomeObjected, "1", 0, true},
		{"a failure of a prompt stopped by a key changes nothing", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"key:2+900", "stop:offer play:goodbye"},
			{"playfail:offer:900+901", ""},
			{"end:goodbye:1000+1901", "close:declined hangup"},
		}, objections.OutcomeDeclined, "2", 900, true},
		{"a failure after the hang-up changes nothing", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"hangup:1200+1200", "close:hangup_during_prompt"},
			{"playfail:offer:1200+1201", ""},
		}, objections.OutcomeHangupDuringPrompt, "", 1200, false},
		{"before the end a late key is an ordinary key", DefaultFlow(), []step{
			{"start", "play:offer collect"},
			{"late:1+900", "stop:offer record"},
		}, "", "1", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMachine(tc.flow, ctx)
			var s State
			for _, st := range tc.steps {
				var acts []Action
				s, acts = m.Next(s, ev(t, st.event))
				if got := describe(acts); got != st.want {
					t.Fatalf("after %s: actions %q, want %q (phase %s)", st.event, got, st.want, s.Phase)
				}
				for _, a := range acts {
					if a.Kind == ActRecord && (a.Objection.OfferID != s.OfferID || a.Objection.CallRef != "c1" || a.Objection.Source != objections.SourceIVRARI || a.Objection.IdempotencyKey != "ari:c1" || a.Objection.CampaignRef != "spring") {
						t.Fatalf("record action = %+v", a.Objection)
					}
					if a.Kind == ActClose && (a.Offer.ID != s.OfferID || a.Offer.PromptID != string(prompts.Offer) || a.Offer.CallRef != "c1") {
						t.Fatalf("close action = %+v", a.Offer)
					}
					if a.Kind == ActClose && (a.Offer.Outcome == objections.OutcomeError) != (a.Offer.Reason != "") {
						t.Fatalf("close action reason %q with outcome %s", a.Offer.Reason, a.Offer.Outcome)
					}
				}
			}
			var keys string
			for _, k := range s.Keys {
				keys += k.Digit
			}
			if s.Outcome != tc.outcome || keys != tc.keys || s.OfferMS != tc.offerMS || s.BargeIn != tc.bargeIn {
				t.Fatalf("final: outcome %q keys %q offer_ms %d barge_in %v; want %q %q %d %v", s.Outcome, keys, s.OfferMS, s.BargeIn, tc.outcome, tc.keys, tc.offerMS, tc.bargeIn)
			}
		})
	}
}

// A late objection key builds the objection as an ordinary one does, with
// a note, and its EvRecorded is kept; a stray EvRecorded after the end is
// not.
func TestLateObjectionKey(t *testing.T) {
	m := NewMachine(DefaultFlow(), Context{Org: "acme", Number: "+31612345678", Provider: "twilio", CallRef: "CA1", CampaignRef: "spring"})
	s, _ := m.Next(State{}, ev(t, "start"))
	s, _ = m.Next(s, ev(t, "hangup:1200+1200"))
	if s2, _ := m.Next(s, ev(t, "recorded+1250")); s2.ObjectionID != "" {
		t.Fatalf("a stray EvRecorded after the end set the objection id")
	}
	s, acts := m.Next(s, ev(t, "late:1+1300"))
	if len(acts) != 1 || acts[0].Kind != ActRecord {
		t.Fatalf("actions = %s", describe(acts))
	}
	want := m.objection(s)
	want.Note = NoteLateKey
	if acts[0].Objection != want || want.IdempotencyKey != "twilio:CA1" || want.Source != objections.SourceIVRTwilio {
		t.Fatalf("objection = %+v, want %+v", acts[0].Objection, want)
	}
	s, _ = m.Next(s, ev(t, "spooled+1310"))
	if s.Phase != PhaseDone || s.ObjectionID != "obj-1" || !s.Spooled || s.Outcome != objections.OutcomeHangupDuringPrompt {
		t.Fatalf("state = %+v", s)
	}
}

func TestFlowValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		flow Flow
		ok   bool
	}{
		{"default", DefaultFlow(), true},
		{"zero value gets defaults", Flow{}, true},
		{"bad object key", Flow{KeyObject: "12"}, false},
		{"decline equals object", Flow{KeyObject: "1", KeyDecline: "1"}, false},
		{"letter key", Flow{KeyObject: "x"}, false},
		{"long timeout", Flow{Timeout: 2 * time.Minute}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.flow.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestStateSurvivesJSON(t *testing.T) {
	// The Twilio adapter keeps State in the store between webhooks.
	m := NewMachine(DefaultFlow(), Context{Org: "acme", Provider: "twilio", CallRef: "CA1"})
	s, _ := m.Next(State{}, Event{Kind: EvStart, At: t0})
	s, _ = m.Next(s, Event{Kind: EvDigit, At: t0.Add(time.Second), Digit: "7"})
	b, err := marshalState(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"phase":"invalid"`) {
		t.Fatalf("the phase is not stored by name: %s", b)
	}
	back, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Phase != s.Phase || back.OfferID != s.OfferID || len(back.Keys) != 1 || !back.Keys[0].At.Equal(s.Keys[0].At) || back.Invalid != 1 || back.Playing != s.Playing {
		t.Fatalf("round trip: %+v\nwant %+v", back, s)
	}
}

func TestFlowSurvivesJSON(t *testing.T) {
	// The Twilio adapter pins the flow in its call record.
	f := DefaultFlow()
	f.Profile, f.KeyObject, f.KeyDecline, f.Timeout, f.Continue = ProfileUS, "9", "", 4*time.Second, true
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back Flow
	if err := json.Unmarshal(b, &back); err != nil || back != f {
		t.Fatalf("round trip of %s: %+v, %v; want %+v", b, back, err, f)
	}
}

// States and flows written before Phase and Profile were stored by name
// hold their integers; they load as what the integers meant then.
func TestLegacyIntegerEnums(t *testing.T) {
	old := `{"phase":8,"offer_id":"01KJPZV280WS7892BARSF1V3GQ","started":"2026-03-02T10:00:00Z",` +
		`"keys":[{"digit":"2","at":"2026-03-02T10:00:08Z"}],"invalid":0,"no_input":0,"offer_ms":8000,"barge_in":true,` +
		`"prompt_version":"1f7147470b0c","pending":"declined","outcome":"declined","ended_by":"system","ended":"2026-03-02T10:00:08Z"}`
	s, err := UnmarshalState([]byte(old))
	if err != nil || s.Phase != PhaseDone || s.Outcome != objections.OutcomeDeclined || len(s.Keys) != 1 {
		t.Fatalf("old state = %+v, %v", s, err)
	}
	var f Flow
	if err := json.Unmarshal([]byte(`{"profile":2,"key_object":"9","key_decline":"","timeout":0,"max_invalid":0,"max_no_input":0,"debounce":0}`), &f); err != nil || f.Profile != ProfileUS || f.KeyObject != "9" {
		t.Fatalf("old flow = %+v, %v", f, err)
	}
	phases := []struct {
		stored string
		want   Phase
	}{
		{"0", 0}, {"1", PhaseOffer}, {"2", PhaseInvalid}, {"3", PhaseRepeat}, {"4", PhaseRecording},
		{"5", PhaseConfirm}, {"6", PhaseSorry}, {"7", PhaseGoodbye}, {"8", PhaseDone},
		{`"new"`, 0}, {`"offer"`, PhaseOffer}, {`"recording"`, PhaseRecording}, {`"done"`, PhaseDone},
	}
	for _, tc := range phases {
		t.Run("phase "+tc.stored, func(t *testing.T) {
			var p Phase
			if err := json.Unmarshal([]byte(tc.stored), &p); err != nil || p != tc.want {
				t.Fatalf("%s = %s, %v; want %s", tc.stored, p, err, tc.want)
			}
		})
	}
	profiles := []struct {
		stored string
		want   Profile
	}{{"0", 0}, {"1", ProfileNL}, {"2", ProfileUS}, {`""`, 0}, {`"nl"`, ProfileNL}, {`"us"`, ProfileUS}}
	for _, tc := range profiles {
		t.Run("profile "+tc.stored, func(t *testing.T) {
			var p Profile
			if err := json.Unmarshal([]byte(tc.stored), &p); err != nil || p != tc.want {
				t.Fatalf("%s = %s, %v; want %s", tc.stored, p, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"9", "-1", "1.5", `"offered"`, "true"} {
		var p Phase
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("phase %s loaded as %s", bad, p)
		}
	}
	for _, bad := range []string{"3", `"fr"`} {
		var p Profile
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("profile %s loaded as %s", bad, p)
		}
	}
}

// Every phase and profile round-trips by name.
func TestEnumsStoredByName(t *testing.T) {
	for p := Phase(0); p <= PhaseDone; p++ {
		b, err := json.Marshal(p)
		var back Phase
		if err != nil || string(b) != `"`+p.String()+`"` || json.Unmarshal(b, &back) != nil || back != p {
			t.Errorf("phase %d: %s, %v, back %d", p, b, err, back)
		}
	}
	for _, p := range []Profile{0, ProfileNL, ProfileUS} {
		b, err := json.Marshal(p)
		var back Profile
		if err != nil || json.Unmarshal(b, &back) != nil || back != p {
			t.Errorf("profile %d: %s, %v, back %d", p, b, err, back)
		}
	}
	if _, err := json.Marshal(Phase(42)); err == nil {
		t.Error("an unknown phase was encoded")
	}
}

func TestFlowFor(t *testing.T) {
	f := FlowFor(objections.Org{IVR: objections.IVRSettings{Profile: "us", KeyObject: "9", TimeoutMS: 4000, AfterDialogue: "continue"}})
	if f.Profile != ProfileUS || f.KeyObject != "9" || f.KeyDecline != "" || f.Timeout != 4*time.Second || !f.Continue || f.MaxInvalid != 2 {
		t.Fatalf("flow = %+v", f)
	}
	if d := FlowFor(objections.Org{}); d != DefaultFlow() {
		t.Fatalf("default flow = %+v", d)
	}
}
