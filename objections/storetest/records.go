package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// RecordsStore is the register with the reads of the supervisors' UI
// (objections/review): the newest-first searches with their totals, the
// candidates for a partial number, the offer of a call, the events of one
// record, and the counts per day.
type RecordsStore interface {
	objections.Store
	SearchObjections(ctx context.Context, f objections.ObjectionFilter, offset int) (objections.ObjectionPage, error)
	SearchOffers(ctx context.Context, f objections.OfferFilter, offset int) (objections.OfferPage, error)
	NumberCandidates(ctx context.Context, m objections.NumberMatch) ([]string, error)
	OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error)
	EventsFor(ctx context.Context, subjectID string) ([]objections.Event, error)
	Stats(ctx context.Context, f objections.StatsFilter) ([]objections.DayStat, error)
}

// RunRecords runs the suite of the UI's reads against the store open
// returns.
func RunRecords(t *testing.T, open func(t *testing.T) RecordsStore) {
	suite[RecordsStore]{
		{"SearchObjections", testSearchObjections},
		{"SearchOffers", testSearchOffers},
		{"NumberCandidates", testNumberCandidates},
		{"OfferByCallRefAndEvents", testOfferByCallRef},
		{"StatsPerDayAndCampaign", testStats},
		{"StatsAcrossDST", testStatsDST},
		{"StatsErrors", testStatsErrors},
	}.run(t, open)
}

func testSearchObjections(t *testing.T, s RecordsStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	var recs []objections.Objection
	for i := range 7 {
		o := objections.Objection{Org: "acme", RawNumber: fmt.Sprintf("06123456%02d", i), Source: objections.SourceAgent, CampaignRef: "spring"}
		if i%2 == 1 {
			o.Org, o.CampaignRef, o.Source = "beta", "winter", objections.SourceEmail
		}
		rec, _ := record(t, r, o)
		recs = append(recs, rec)
	}
	if _, err := r.Void(ctx, recs[2].ID, "admin", "wrong number"); err != nil {
		t.Fatal(err)
	}
	page := must[objections.ObjectionPage](t)(s.SearchObjections(ctx, objections.ObjectionFilter{Limit: 3}, 0))
	if page.Total != 7 || len(page.Objections) != 3 || page.Objections[0].ID != recs[6].ID || page.Objections[2].ID != recs[4].ID {
		t.Fatalf("first page = %d %+v", page.Total, page.Objections)
	}
	page = must[objections.ObjectionPage](t)(s.SearchObjections(ctx, objections.ObjectionFilter{Limit: 3, After: recs[6].ID}, 6))
	if page.Total != 7 || len(page.Objections) != 1 || page.Objections[0].ID != recs[0].ID {
		t.Fatalf("last page = %d %+v", page.Total, page.Objections)
	}
	for _, tc := range []struct {
		name string
		f    objections.ObjectionFilter
		want []int
	}{
		{"org", objections.ObjectionFilter{Org: "beta"}, []int{5, 3, 1}},
		{"number", objections.ObjectionFilter{Number: "+31612345604"}, []int{4}},
		{"campaign", objections.ObjectionFilter{Campaign: "spring"}, []int{6, 4, 2, 0}},
		{"source", objections.ObjectionFilter{Source: objections.SourceEmail}, []int{5, 3, 1}},
		{"voided", objections.ObjectionFilter{Status: objections.StatusVoided}, []int{2}},
		{"active", objections.ObjectionFilter{Status: objections.StatusActive, Org: "acme"}, []int{6, 4, 0}},
		{"since", objections.ObjectionFilter{Since: recs[5].ReceivedAt}, []int{6, 5}},
		{"until", objections.ObjectionFilter{Until: recs[1].ReceivedAt}, []int{0}},
		{"none", objections.ObjectionFilter{Org: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := must[objections.ObjectionPage](t)(s.SearchObjections(ctx, tc.f, 0))
			var got []int
			for _, o := range page.Objections {
				for i, r := range recs {
					if r.ID == o.ID {
						got = append(got, i)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || page.Total != len(tc.want) || page.Objections == nil {
				t.Fatalf("got %v (total %d), want %v", got, page.Total, tc.want)
			}
		})
	}
	voided := must[objections.ObjectionPage](t)(s.SearchObjections(ctx, objections.ObjectionFilter{Status: objections.StatusVoided}, 0))
	if v := voided.Objections[0].Void; v == nil || v.Reason != "wrong number" || voided.Objections[0].Status != objections.StatusVoided {
		t.Fatalf("voided objection = %+v", voided.Objections[0])
	}
	for _, off := range []int{-1, objections.MaxSearchOffset + 1} {
		if _, err := s.SearchObjections(ctx, objections.ObjectionFilter{}, off); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("offset %d: %v", off, err)
		}
	}
	if _, err := s.SearchObjections(ctx, objections.ObjectionFilter{Status: "gone"}, 0); objections.ErrorCode(err) != objections.EINVALID {
		t.Errorf("bad status: %v", err)
	}
	_ = clk
}

func testSearchOffers(t *testing.T, s RecordsStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	var offers []objections.Offer
	for i := range 6 {
		at := clk.Now().Add(time.Duration(i) * time.Hour)
		o := objections.Offer{Org: "acme", Number: fmt.Sprintf("06123456%02d", i), Provider: "twilio", CallRef: fmt.Sprintf("CA%d", i),
			CampaignRef: "spring", AgentRef: "agent-1", Outcome: objections.OutcomeDeclined, StartedAt: at, EndedAt: at.Add(time.Minute)}
		switch i % 3 {
		case 1:
			o.Org, o.Agency, o.AgentRef, o.Outcome = "beta", "callcenter1", "agent-2", objections.OutcomeNoInput
		case 2:
			o.CampaignRef, o.Outcome = "winter", objections.OutcomeHangupDuringPrompt
		}
		rec, _, err := r.RecordOffer(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		offers = append(offers, rec)
	}
	// A call recorded last that started first (a late write) is listed
	// by when it started.
	early := clk.Now().Add(-time.Hour)
	late, _, err := r.RecordOffer(ctx, objections.Offer{Org: "gamma", Number: "0612345699", Provider: "twilio", CallRef: "CA-late",
		Outcome: objections.OutcomeError, StartedAt: early, EndedAt: early})
	if err != nil {
		t.Fatal(err)
	}
	if page := must[objections.OfferPage](t)(s.SearchOffers(ctx, objections.OfferFilter{}, 0)); page.Total != 7 ||
		page.Offers[0].ID != offers[5].ID || page.Offers[6].ID != late.ID {
		t.Fatalf("by start = %+v", page.Offers)
	}
	page := must[objections.OfferPage](t)(s.SearchOffers(ctx, objections.OfferFilter{Limit: 4, Scope: []string{"acme", "beta"}}, 0))
	if page.Total != 6 || len(page.Offers) != 4 || page.Offers[0].ID != offers[5].ID || page.Offers[3].ID != offers[2].ID {
		t.Fatalf("first page = %d %+v", page.Total, page.Offers)
	}
	page = must[objections.OfferPage](t)(s.SearchOffers(ctx, objections.OfferFilter{Limit: 4, After: offers[5].ID, Scope: []string{"acme", "beta"}}, 4))
	if page.Total != 6 || len(page.Offers) != 2 || page.Offers[0].ID != offers[1].ID {
		t.Fatalf("last page = %d %+v", page.Total, page.Offers)
	}
	t1 := offers[0].StartedAt
	for _, tc := range []struct {
		name string
		f    objections.OfferFilter
		want []int // indexes into offers, newest first
	}{
		{"org", objections.OfferFilter{Org: "beta"}, []int{4, 1}},
		{"scope with agency", objections.OfferFilter{Scope: []string{"callcenter1"}}, []int{4, 1}},
		{"campaign", objections.OfferFilter{Campaign: "winter"}, []int{5, 2}},
		{"outcome", objections.OfferFilter{Outcome: objections.OutcomeDeclined}, []int{3, 0}},
		{"agent", objections.OfferFilter{Agent: "agent-2"}, []int{4, 1}},
		{"number", objections.OfferFilter{Number: "+31612345603"}, []int{3}},
		{"range", objections.OfferFilter{Since: t1.Add(time.Hour), Until: t1.Add(3 * time.Hour), Org: "acme"}, []int{2}},
	} {
		page := must[objections.OfferPage](t)(s.SearchOffers(ctx, tc.f, 0))
		var got []int
		for _, o := range page.Offers {
			for i, want := range offers {
				if o.ID == want.ID {
					got = append(got, i)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || page.Total != len(tc.want) {
			t.Errorf("%s: %v (total %d), want %v", tc.name, got, page.Total, tc.want)
		}
	}
	for _, bad := range []func() error{
		func() error { _, err := s.SearchOffers(ctx, objections.OfferFilter{}, -1); return err },
		func() error {
			_, err := s.SearchOffers(ctx, objections.OfferFilter{}, objections.MaxSearchOffset+1)
			return err
		},
		func() error { _, err := s.SearchOffers(ctx, objections.OfferFilter{Outcome: "maybe"}, 0); return err },
	} {
		if err := bad(); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("bad search: %v, want invalid", err)
		}
	}
}

// A partial number finds the numbers of objections and offers that end
// or begin with it, each once, in order, within the org and scope.
func testNumberCandidates(t *testing.T, s RecordsStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	for _, n := range []struct{ org, agency, number string }{
		{"acme", "", "0612345678"}, {"acme", "", "0687655678"}, {"beta", "", "0611115678"}, {"acme", "", "0201235678"},
		{"acme", "callcenter1", "0655555678"}, {"acme", "", "0612340000"},
	} {
		record(t, r, objections.Objection{Org: n.org, Agency: n.agency, RawNumber: n.number, Source: objections.SourceAgent})
	}
	// Offers: one on a number with an objection, one on a number without,
	// one without a number.
	for i, n := range []string{"0612345678", "0633335678", ""} {
		at := clk.Now()
		if _, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Number: n, Provider: "twilio", CallRef: fmt.Sprintf("CAn%d", i),
			Outcome: objections.OutcomeDeclined, StartedAt: at, EndedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	// A pending objection has no number.
	record(t, r, objections.Objection{Org: "acme", DialerCallRef: "d1", Source: objections.SourceAgent})
	for _, tc := range []struct {
		name string
		m    objections.NumberMatch
		want string
	}{
		{"last four", objections.NumberMatch{Suffix: "5678"}, "[+31201235678 +31611115678 +31612345678 +31633335678 +31655555678 +31687655678]"},
		{"last six", objections.NumberMatch{Suffix: "345678"}, "[+31612345678]"},
		{"org", objections.NumberMatch{Suffix: "5678", Org: "beta"}, "[+31611115678]"},
		{"scope of the agency", objections.NumberMatch{Suffix: "5678", Scope: []string{"callcenter1"}}, "[+31655555678]"},
		{"limit", objections.NumberMatch{Suffix: "5678", Limit: 2}, "[+31201235678 +31611115678]"},
		{"beginning", objections.NumberMatch{Prefix: "+316123"}, "[+31612340000 +31612345678]"},
		{"beginning, one digit more", objections.NumberMatch{Prefix: "+3161234"}, "[+31612340000 +31612345678]"},
		{"nothing", objections.NumberMatch{Suffix: "4321"}, "[]"},
		{"no match given", objections.NumberMatch{}, "[]"},
	} {
		got := must[[]string](t)(s.NumberCandidates(ctx, tc.m))
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
}

func testOfferByCallRef(t *testing.T, s RecordsStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	start := clk.Now()
	off, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Number: "0612345678", Provider: "twilio", CallRef: "CA1",
		PromptID: "offer", PromptVersion: "abc123", Language: "nl", PromptHash: "ff00", PlayedMS: 4200,
		Keys: []objections.Key{{Digit: "1", At: start.Add(3 * time.Second)}}, Outcome: objections.OutcomeObjected,
		StartedAt: start, EndedAt: start.Add(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	got := must[objections.Offer](t)(s.OfferByCallRef(ctx, "twilio", "CA1"))
	if got.ID != off.ID || got.PromptVersion != "abc123" || len(got.Keys) != 1 || got.Keys[0].Digit != "1" {
		t.Fatalf("offer by call = %+v", got)
	}
	if _, err := s.OfferByCallRef(ctx, "ari", "CA1"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("other provider: %v", err)
	}
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRTwilio,
		Provider: "twilio", CallRef: "CA1", OfferID: off.ID})
	if _, err := r.Void(ctx, o.ID, "admin", "test call"); err != nil {
		t.Fatal(err)
	}
	evs := must[[]objections.Event](t)(s.EventsFor(ctx, o.ID))
	if len(evs) != 2 || evs[0].Kind != objections.EventObjectionRecorded || evs[1].Kind != objections.EventObjectionVoided ||
		evs[0].Seq >= evs[1].Seq || evs[1].PrevHash == "" || evs[0].Hash != evs[0].ComputeHash() {
		t.Fatalf("events of the objection = %+v", evs)
	}
	if evs := must[[]objections.Event](t)(s.EventsFor(ctx, off.ID)); len(evs) != 1 || evs[0].Kind != objections.EventOfferRecorded {
		t.Fatalf("events of the offer = %+v", evs)
	}
	if evs := must[[]objections.Event](t)(s.EventsFor(ctx, "nothing")); len(evs) != 0 {
		t.Fatalf("events of nothing = %+v", evs)
	}
}

// statsFixture records objections and offers at given times.
type statsFixture struct {
	t   *testing.T
	r   *objections.Register
	clk *fixedClock
	n   int
}

func (f *statsFixture) objection(at time.Time, org, campaign string) objections.Objection {
	f.t.Helper()
	f.n++
	f.clk.Set(at.Add(-time.Millisecond)) // the clock ticks once per reading
	o, _ := record(f.t, f.r, objections.Objection{Org: org, RawNumber: fmt.Sprintf("06100000%02d", f.n),
		Source: objections.SourceAgent, CampaignRef: campaign})
	return o
}

func (f *statsFixture) offer(at time.Time, org, campaign string, outcome objections.Outcome) {
	f.t.Helper()
	f.n++
	if _, _, err := f.r.RecordOffer(context.Background(), objections.Offer{Org: org, Provider: "twilio",
		CallRef: fmt.Sprintf("CA%d", f.n), CampaignRef: campaign, Outcome: outcome, StartedAt: at, EndedAt: at.Add(time.Minute)}); err != nil {
		f.t.Fatal(err)
	}
}

func statsString(list []objections.DayStat) string {
	s := ""
	for _, d := range list {
		s += fmt.Sprintf("%s/%s:%d,%d,%d,%d ", d.Day, d.Campaign, d.Objections, d.Voided, d.Offers, d.Objected)
	}
	return s
}

func testStats(t *testing.T, s RecordsStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	f := &statsFixture{t: t, r: r, clk: clk}
	utc := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	// 2026-03-02 22:59 UTC is 23:59 in Amsterdam (CET); 23:01 UTC is the 3rd.
	f.objection(utc(2, 22, 59), "acme", "spring")
	o := f.objection(utc(2, 23, 1), "acme", "spring")
	f.objection(utc(3, 10, 0), "acme", "")
	f.objection(utc(3, 11, 0), "beta", "spring")
	f.objection(utc(9, 11, 0), "acme", "spring") // outside the range
	if _, err := r.Void(ctx, o.ID, "admin", "test"); err != nil {
		t.Fatal(err)
	}
	f.offer(utc(2, 12, 0), "acme", "spring", objections.OutcomeDeclined)
	f.offer(utc(2, 22, 58), "acme", "spring", objections.OutcomeObjected)
	f.offer(utc(2, 23, 0), "acme", "spring", objections.OutcomeObjected)
	f.offer(utc(3, 9, 0), "acme", "", objections.OutcomeNoInput)
	f.offer(utc(3, 9, 30), "beta", "spring", objections.OutcomeObjected)

	rng := objections.StatsFilter{Since: utc(1, 23, 0), Until: utc(4, 23, 0)}
	got := must[[]objections.DayStat](t)(s.Stats(ctx, rng))
	want := "2026-03-02/spring:1,0,2,1 2026-03-03/:1,0,1,0 2026-03-03/spring:2,1,2,2 "
	if statsString(got) != want {
		t.Fatalf("stats = %s\nwant    %s", statsString(got), want)
	}
	byOrg := rng
	byOrg.Org = "acme"
	if got := statsString(must[[]objections.DayStat](t)(s.Stats(ctx, byOrg))); got != "2026-03-02/spring:1,0,2,1 2026-03-03/:1,0,1,0 2026-03-03/spring:1,1,1,1 " {
		t.Fatalf("stats of acme = %s", got)
	}
	byCampaign := rng
	byCampaign.Campaign = "spring"
	if got := statsString(must[[]objections.DayStat](t)(s.Stats(ctx, byCampaign))); got != "2026-03-02/spring:1,0,2,1 2026-03-03/spring:2,1,2,2 " {
		t.Fatalf("stats of spring = %s", got)
	}
	inUTC := rng
	inUTC.Location = time.UTC
	if got := statsString(must[[]objections.DayStat](t)(s.Stats(ctx, inUTC))); got != "2026-03-02/spring:2,1,3,2 2026-03-03/:1,0,1,0 2026-03-03/spring:1,0,1,1 " {
		t.Fatalf("stats in UTC = %s", got)
	}
	if got := must[[]objections.DayStat](t)(s.Stats(ctx, objections.StatsFilter{Since: utc(20, 0, 0), Until: utc(21, 0, 0)})); len(got) != 0 {
		t.Fatalf("stats of an empty range = %+v", got)
	}
}

// Summer time starts in Amsterdam on 2026-03-29 at 01:00 UTC (02:00 CET
// becomes 03:00 CEST) and ends on 2026-10-25 at 01:00 UTC.
func testStatsDST(t *testing.T, s RecordsStore) {
	r, clk := newRegister(s)
	ctx := context.Background()
	f := &statsFixture{t: t, r: r, clk: clk}
	at := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, time.UTC) }
	f.objection(at(3, 28, 22, 30), "acme", "c")  // 23:30 CET on the 28th
	f.objection(at(3, 28, 23, 30), "acme", "c")  // 00:30 CET on the 29th
	f.objection(at(3, 29, 21, 30), "acme", "c")  // 23:30 CEST on the 29th
	f.objection(at(3, 29, 22, 30), "acme", "c")  // 00:30 CEST on the 30th
	f.objection(at(10, 24, 21, 30), "acme", "c") // 23:30 CEST on the 24th
	f.objection(at(10, 25, 22, 30), "acme", "c") // 23:30 CET on the 25th
	f.objection(at(10, 25, 23, 30), "acme", "c") // 00:30 CET on the 26th
	got := must[[]objections.DayStat](t)(s.Stats(ctx, objections.StatsFilter{Since: at(3, 1, 0, 0), Until: at(12, 1, 0, 0)}))
	want := "2026-03-28/c:1,0,0,0 2026-03-29/c:2,0,0,0 2026-03-30/c:1,0,0,0 2026-10-24/c:1,0,0,0 2026-10-25/c:1,0,0,0 2026-10-26/c:1,0,0,0 "
	if statsString(got) != want {
		t.Fatalf("stats = %s\nwant    %s", statsString(got), want)
	}
}

func testStatsErrors(t *testing.T, s RecordsStore) {
	ctx := context.Background()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for name, f := range map[string]objections.StatsFilter{
		"no range": {},
		"no end":   {Since: day},
		"reversed": {Since: day, Until: day.Add(-time.Hour)},
		"too long": {Since: day, Until: day.AddDate(11, 0, 0)},
	} {
		if _, err := s.Stats(ctx, f); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}
