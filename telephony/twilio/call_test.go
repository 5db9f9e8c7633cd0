package twilio

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
)

// Call records in flight across an upgrade: testdata/callstate holds
// records as verzet wrote them when ivr.Phase and ivr.Profile were stored
// as integers. They load into the state they meant, the call goes on from
// them, and the next save writes the names.
func TestCallRecordsWithIntegerEnums(t *testing.T) {
	load := func(t *testing.T, r *rig, name, sid string) *callRecord {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", "callstate", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"format":1,`) || strings.Contains(string(data), `"phase":"`) {
			t.Fatalf("%s is not a record with integer phases", name)
		}
		st := objections.CallState{Provider: provider, Ref: sid, Version: 1, Data: data, UpdatedAt: r.clock.Now()}
		if err := r.store.SaveCall(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		rec, _ := r.record(sid)
		return rec
	}
	t.Run("NL offer after an invalid key: the objection key objects", func(t *testing.T) {
		r := newRig(t, openSQLite(t))
		s := sid(200)
		rec := load(t, r, "v1-int-nl-offer.json", s)
		if rec.State.Phase != ivr.PhaseOffer || rec.Flow.Profile != ivr.ProfileNL || rec.Flow.Timeout != 6*time.Second ||
			rec.State.Invalid != 1 || rec.Next != 2 || !rec.Gathering || rec.Call.Campaign != "spring" {
			t.Fatalf("record = %+v", rec)
		}
		r.clock.Advance(5 * time.Second)
		code, body := r.post(gatherURL(r, 2), form(s, "Digits", "1"))
		if code != 200 || !strings.Contains(body, "/confirm-") {
			t.Fatalf("%d, want the confirmation:\n%s", code, body)
		}
		objs, offers := r.objections(), r.offers()
		if len(objs) != 1 || objs[0].CampaignRef != "spring" || objs[0].LeadRef != "L1" || objs[0].Number != customer {
			t.Fatalf("objections = %+v", objs)
		}
		if len(offers) != 1 || offers[0].Outcome != objections.OutcomeObjected || len(offers[0].Keys) != 2 || offers[0].ID != rec.State.OfferID {
			t.Fatalf("offers = %+v", offers)
		}
		st, err := r.store.LoadCall(context.Background(), provider, s)
		if err != nil || !strings.Contains(string(st.Data), `"format":2`) || !strings.Contains(string(st.Data), `"phase":"done"`) || !strings.Contains(string(st.Data), `"profile":"nl"`) {
			t.Fatalf("saved again: %s, %v; want the phase and profile by name", st.Data, err)
		}
	})
	t.Run("US offer: key 9 objects and ends the call", func(t *testing.T) {
		r := newRig(t, openSQLite(t), func(c *rigConfig) { c.flow = ivr.Flow{Profile: ivr.ProfileUS, KeyObject: "9"} })
		s := sid(201)
		rec := load(t, r, "v1-int-us-offer.json", s)
		if rec.State.Phase != ivr.PhaseOffer || rec.Flow.Profile != ivr.ProfileUS || rec.Flow.KeyObject != "9" || rec.Next != 1 {
			t.Fatalf("record = %+v", rec)
		}
		code, body := r.post(gatherURL(r, 1), form(s, "Digits", "9"))
		if code != 200 || strings.Contains(body, "<Play>") || !strings.Contains(body, "<Hangup>") {
			t.Fatalf("%d, want a hang-up without a confirmation:\n%s", code, body)
		}
		if objs := r.objections(); len(objs) != 1 {
			t.Fatalf("objections = %+v", objs)
		}
	})
	t.Run("NL done: a status callback changes nothing", func(t *testing.T) {
		r := newRig(t, openSQLite(t))
		s := sid(202)
		rec := load(t, r, "v1-int-nl-done.json", s)
		if rec.State.Phase != ivr.PhaseDone || rec.State.Outcome != objections.OutcomeDeclined || rec.Flow.Profile != ivr.ProfileNL {
			t.Fatalf("record = %+v", rec)
		}
		r.post(r.public+PathStatus, form(s, "CallStatus", "completed", "SequenceNumber", "3"))
		if _, version := r.record(s); version != 1 {
			t.Fatalf("record version %d, want 1: a status callback after the end changed it", version)
		}
	})
}
