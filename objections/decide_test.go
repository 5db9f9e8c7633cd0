package objections

import (
	"fmt"
	"testing"
	"time"
)

func ams(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Amsterdam())
}

func TestDecide(t *testing.T) {
	const num = "+31612345678"
	charity := Org{ID: "acme", Sector: SectorCharity, RelationTermMonths: 36}
	other := Org{ID: "shop", Sector: SectorOther, RelationTermMonths: 36}
	short := Org{ID: "short", Sector: SectorCharity, RelationTermMonths: 12}
	t0 := ams(2026, 3, 1, 12, 0)
	obj := func(at time.Time) Objection {
		return Objection{ID: "o1", Org: "acme", Number: num, ReceivedAt: at, Status: StatusActive}
	}
	rel := func(peil time.Time) Relation {
		return Relation{Org: "acme", Number: num, Kind: RelationDonation, Peildatum: DateOf(peil)}
	}
	consent := func(given time.Time) Consent {
		return Consent{Org: "acme", Number: num, Channel: ChannelPhone, GivenAt: given}
	}
	withdrawn := func(c Consent, at time.Time) Consent { c.WithdrawnAt = &at; return c }
	voided := func(o Objection, at time.Time) Objection {
		o.Status, o.Void = StatusVoided, &Void{ObjectionID: o.ID, At: at}
		return o
	}
	byPerson := Objection{ID: "o2", Org: "acme", PersonID: "p1", ReceivedAt: t0.Add(-time.Hour), Status: StatusPendingNumber}

	tests := []struct {
		name     string
		req      string
		facts    Facts
		person   string
		at       time.Time
		callable bool
		basis    Basis
		reasons  []Reason
	}{
		{"nothing held", "REQ-1", Facts{Org: charity}, "", t0, false, BasisNone, []Reason{ReasonNoBasis}},
		{"valid phone consent", "REQ-1", Facts{Org: other, Consents: []Consent{consent(t0.AddDate(0, -1, 0))}}, "", t0, true, BasisConsent, []Reason{ReasonConsent}},
		{"consent in the future does not count yet", "REQ-1", Facts{Org: other, Consents: []Consent{consent(t0.Add(time.Hour))}}, "", t0, false, BasisNone, []Reason{ReasonNoBasis}},
		{"e-mail consent is not a phone basis", "§5.3", Facts{Org: other, Consents: []Consent{{Org: "shop", Number: num, Channel: ChannelEmail, GivenAt: t0.AddDate(0, -1, 0)}}}, "", t0, false, BasisNone, []Reason{ReasonNoBasis}},
		{"withdrawn consent", "REQ-18", Facts{Org: other, Consents: []Consent{withdrawn(consent(t0.AddDate(0, -2, 0)), t0.AddDate(0, -1, 0))}}, "", t0, false, BasisNone, []Reason{ReasonConsentWithdrawn}},
		{"relation within term", "REQ-2", Facts{Org: charity, Relations: []Relation{rel(t0.AddDate(-1, 0, 0))}}, "", t0, true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"running contract (peildatum ahead)", "REQ-2", Facts{Org: charity, Relations: []Relation{rel(t0.AddDate(1, 0, 0))}}, "", t0, true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"relation on the last day of the term", "REQ-12", Facts{Org: charity, Relations: []Relation{rel(ams(2023, 3, 1, 0, 0))}}, "", ams(2026, 3, 1, 23, 59), true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"relation one day past the term", "REQ-12", Facts{Org: charity, Relations: []Relation{rel(ams(2023, 3, 1, 0, 0))}}, "", ams(2026, 3, 2, 0, 0), false, BasisNone, []Reason{ReasonRelationExpired}},
		{"term counted in Amsterdam dates (UTC still the day before)", "§5.12", Facts{Org: charity, Relations: []Relation{rel(ams(2023, 3, 1, 0, 0))}}, "", time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), false, BasisNone, []Reason{ReasonRelationExpired}},
		{"shorter org term", "REQ-12", Facts{Org: short, Relations: []Relation{rel(t0.AddDate(0, -13, 0))}}, "", t0, false, BasisNone, []Reason{ReasonRelationExpired}},
		{"leap day peildatum ends on 28 Feb", "REQ-12", Facts{Org: short, Relations: []Relation{rel(ams(2024, 2, 29, 0, 0))}}, "", ams(2025, 3, 1, 0, 0), false, BasisNone, []Reason{ReasonRelationExpired}},
		{"newest relation counts", "REQ-12", Facts{Org: charity, Relations: []Relation{rel(ams(2020, 1, 1, 0, 0)), rel(ams(2025, 1, 1, 0, 0))}}, "", t0, true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"sector other before the switch", "REQ-5", Facts{Org: other, Relations: []Relation{rel(t0)}}, "", ams(2026, 6, 30, 23, 59), true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"sector other at 2026-07-01 00:00 Amsterdam", "REQ-5", Facts{Org: other, Relations: []Relation{rel(t0)}}, "", ams(2026, 7, 1, 0, 0), false, BasisNone, []Reason{ReasonSectorNoRelationBasis}},
		{"sector other: 22:30 UTC on 30 June is already July in Amsterdam", "REQ-5 §5.12", Facts{Org: other, Relations: []Relation{rel(t0)}}, "", time.Date(2026, 6, 30, 22, 30, 0, 0, time.UTC), false, BasisNone, []Reason{ReasonSectorNoRelationBasis}},
		{"sector other after the switch keeps consent", "REQ-5", Facts{Org: other, Relations: []Relation{rel(t0)}, Consents: []Consent{consent(t0)}}, "", ams(2026, 8, 1, 0, 0), true, BasisConsent, []Reason{ReasonConsent}},
		{"charity keeps the relation basis after the switch", "REQ-5", Facts{Org: charity, Relations: []Relation{rel(ams(2026, 5, 1, 0, 0))}}, "", ams(2026, 8, 1, 0, 0), true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"lottery keeps the relation basis", "REQ-5", Facts{Org: Org{ID: "l", Sector: SectorLottery}, Relations: []Relation{rel(ams(2026, 5, 1, 0, 0))}}, "", ams(2027, 1, 1, 0, 0), true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"press keeps the relation basis", "REQ-5", Facts{Org: Org{ID: "p", Sector: SectorPress}, Relations: []Relation{rel(ams(2026, 5, 1, 0, 0))}}, "", ams(2027, 1, 1, 0, 0), true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"objection blocks a valid relation", "REQ-6", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{obj(t0.Add(-time.Minute))}}, "", t0, false, BasisNone, []Reason{ReasonObjection}},
		{"objection takes effect the moment it is received", "REQ-6", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{obj(t0)}}, "", t0, false, BasisNone, []Reason{ReasonObjection}},
		{"objection received later does not block an earlier moment", "REQ-6", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{obj(t0.Add(time.Minute))}}, "", t0, true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"objection voids an earlier consent", "REQ-6 §5.4", Facts{Org: other, Consents: []Consent{consent(t0.AddDate(0, -1, 0))}, Objections: []Objection{obj(t0.Add(-time.Hour))}}, "", t0, false, BasisNone, []Reason{ReasonObjection, ReasonConsentVoidedByObjection}},
		{"consent at the same instant as the objection is void", "§5.4", Facts{Org: other, Consents: []Consent{consent(t0.Add(-time.Hour))}, Objections: []Objection{obj(t0.Add(-time.Hour))}}, "", t0, false, BasisNone, []Reason{ReasonObjection, ReasonConsentVoidedByObjection}},
		{"consent after the objection restores calling", "§5.4", Facts{Org: other, Consents: []Consent{consent(t0.AddDate(0, -1, 0)), consent(t0.Add(-time.Minute))}, Objections: []Objection{obj(t0.Add(-time.Hour))}}, "", t0, true, BasisConsent, []Reason{ReasonConsent}},
		{"withdrawn later consent does not restore", "§5.4", Facts{Org: other, Consents: []Consent{withdrawn(consent(t0.Add(-time.Minute)), t0.Add(-time.Second))}, Objections: []Objection{obj(t0.Add(-time.Hour))}}, "", t0, false, BasisNone, []Reason{ReasonObjection}},
		{"consent between two objections does not restore", "§5.4", Facts{Org: other, Consents: []Consent{consent(t0.Add(-time.Hour))}, Objections: []Objection{obj(t0.Add(-2 * time.Hour)), obj(t0.Add(-time.Minute))}}, "", t0, false, BasisNone, []Reason{ReasonObjection, ReasonConsentVoidedByObjection}},
		{"relation renewed after objection does not revive", "§5.5", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{obj(t0.AddDate(0, -1, 0))}}, "", t0, false, BasisNone, []Reason{ReasonObjection}},
		{"voided objection no longer blocks", "§5.5", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{voided(obj(t0.Add(-time.Hour)), t0.Add(-time.Minute))}}, "", t0, true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"void in the future: still blocked at t0", "§5.5", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{voided(obj(t0.Add(-time.Hour)), t0.Add(time.Minute))}}, "", t0, false, BasisNone, []Reason{ReasonObjection}},
		{"objection by person blocks their other number", "§5.10", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{byPerson}}, "p1", t0, false, BasisNone, []Reason{ReasonObjection}},
		{"person objection does not block another person", "§5.10", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{byPerson}}, "p2", t0, true, BasisCustomerRelation, []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}},
		{"objection on the number blocks every person there", "§5.10", Facts{Org: charity, Relations: []Relation{rel(t0)}, Objections: []Objection{obj(t0.Add(-time.Hour))}}, "p9", t0, false, BasisNone, []Reason{ReasonObjection}},
		{"pending-number objection blocks by person", "§5.11", Facts{Org: charity, Consents: []Consent{consent(t0.AddDate(-1, 0, 0))}, Objections: []Objection{byPerson}}, "p1", t0, false, BasisNone, []Reason{ReasonObjection, ReasonConsentVoidedByObjection}},
		{"another person's consent on a shared number does not count", "§5.10", Facts{Org: other, Consents: []Consent{{Org: "shop", Number: num, PersonID: "p2", Channel: ChannelPhone, GivenAt: t0.AddDate(0, -1, 0)}}}, "p1", t0, false, BasisNone, []Reason{ReasonNoBasis}},
	}
	for _, tc := range tests {
		t.Run(tc.req+" "+tc.name, func(t *testing.T) {
			d := Decide(tc.facts, num, tc.person, tc.at)
			if d.Callable != tc.callable || d.Basis != tc.basis || fmt.Sprint(d.Reasons) != fmt.Sprint(tc.reasons) {
				t.Fatalf("got callable=%v basis=%s reasons=%v; want callable=%v basis=%s reasons=%v",
					d.Callable, d.Basis, d.Reasons, tc.callable, tc.basis, tc.reasons)
			}
			if (d.Objection != nil) != (d.Basis == BasisNone && len(d.Reasons) > 0 && d.Reasons[0] == ReasonObjection) {
				t.Fatalf("objection %+v does not match reasons %v", d.Objection, d.Reasons)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	nl := Numbers{Region: "NL"}
	for _, in := range []string{"06 1234 5678", "0031612345678", "+31 6 12345678", "+31 (0)6-1234 5678", "0612345678", " 06-12345678 "} {
		got, err := nl.Normalize(in)
		if err != nil || got != "+31612345678" {
			t.Errorf("Normalize(%q) = %q, %v", in, got, err)
		}
	}
	if got, err := nl.Normalize("020 123 4567"); err != nil || got != "+31201234567" {
		t.Errorf("landline = %q, %v", got, err)
	}
	if got, err := nl.Normalize("+1 415 555 2671"); err != nil || got != "+14155552671" {
		t.Errorf("US number = %q, %v", got, err)
	}
	us := Numbers{Region: "US"}
	if got, err := us.Normalize("(415) 555-2671"); err != nil || got != "+14155552671" {
		t.Errorf("US national = %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", "12", "abc", "0612", "06123456789012", "+999 1234"} {
		_, err := nl.Normalize(bad)
		var e *Error
		if err == nil || ErrorCode(err) != EINVALID || !asError(err, &e) || e.Field != "number" || e.Value != bad {
			t.Errorf("Normalize(%q) err = %v; want invalid naming the number", bad, err)
		}
	}
	if _, err := NewNumbers("XX"); ErrorCode(err) != EINVALID {
		t.Errorf("region XX: %v", err)
	}
}

func TestMaskNumber(t *testing.T) {
	if got := MaskNumber("+31612345678"); got != "+31*******78" {
		t.Fatalf("mask = %q", got)
	}
}

func TestNewIDSorts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewID(t0), NewID(t0.Add(time.Millisecond))
	if len(a) != 26 || a >= b || NewID(t0) == a {
		t.Fatalf("ids %s %s", a, b)
	}
}

func TestErrorMessages(t *testing.T) {
	err := Invalid("number", "12", "is not a valid phone number")
	if err.Error() != `number "12": is not a valid phone number` || ErrorMessage(err) != err.Error() {
		t.Fatalf("message = %q", err.Error())
	}
	if ErrorMessage(Internal("insert", fmt.Errorf("pg secret"))) != "internal error" || ErrorCode(fmt.Errorf("x")) != EINTERNAL || ErrorCode(nil) != "" {
		t.Fatal("internal errors leak or miscode")
	}
	wrapped := fmt.Errorf("record: %w", NotFound("id", "x"))
	if ErrorCode(wrapped) != ENOTFOUND {
		t.Fatal("wrapped code lost")
	}
}

func TestVerifyChainNamesBrokenLink(t *testing.T) {
	var evs []Event
	var prev *Event
	for i := 0; i < 5; i++ {
		e, err := NewEvent(prev, EventObjectionRecorded, "acme", fmt.Sprintf("id%d", i), time.Unix(int64(i), 0), map[string]int{"i": i})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		prev = &evs[len(evs)-1]
	}
	if n, err := VerifyChain(t.Context(), sliceReader(evs)); err != nil || n != 5 {
		t.Fatalf("intact chain: %d %v", n, err)
	}
	edited := append([]Event(nil), evs...)
	edited[2].Payload = []byte(`{"i":99}`)
	wantBroken(t, edited, 3)
	dropped := append(append([]Event(nil), evs[:1]...), evs[2:]...)
	wantBroken(t, dropped, 2)
	relinked := append([]Event(nil), evs...)
	relinked[3].PrevHash = evs[1].Hash
	relinked[3].Hash = relinked[3].ComputeHash()
	wantBroken(t, relinked, 4)
}

func wantBroken(t *testing.T, evs []Event, seq int64) {
	t.Helper()
	_, err := VerifyChain(t.Context(), sliceReader(evs))
	var ce *ChainError
	if !asChain(err, &ce) || ce.Seq != seq {
		t.Fatalf("err = %v; want broken at %d", err, seq)
	}
}
