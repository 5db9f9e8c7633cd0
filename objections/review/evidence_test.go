package review_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/review"
)

// packWorld is acme's history with 06 1234 5672: a consent and a
// relation, a declined call, an objection by phone (voided) and one from
// a call, which stopped two dial attempts.
func (e *env) packWorld() (declined objections.Offer, voided, active objections.Objection) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.reg.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme Charity", Sector: objections.SectorCharity}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.reg.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345672", Channel: objections.ChannelPhone,
		GivenAt: e.clk.Now().Add(-48 * time.Hour), Source: "web form", EvidenceRef: "form-881"}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.reg.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345672", Kind: objections.RelationDonation,
		Peildatum: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), Source: "crm"}); err != nil {
		e.t.Fatal(err)
	}
	declined = e.offer(objections.Offer{Number: "0612345672", CampaignRef: "spring", PromptID: "offer", PromptVersion: "v1", Language: "nl",
		PlayedMS: 6100, Outcome: objections.OutcomeDeclined, EndedBy: objections.EndedByCaller,
		Keys: []objections.Key{{Digit: "2", At: e.clk.Now().Add(7 * time.Second)}}})
	voided = e.record(objections.Objection{RawNumber: "06-12345672", Source: objections.SourceCallbackLine, Actor: "sam"})
	if _, err := e.reg.Void(ctx, voided.ID, "ada", "Recorded on the wrong number."); err != nil {
		e.t.Fatal(err)
	}
	active = e.record(objections.Objection{RawNumber: "0612345672", Source: objections.SourceLetter, Actor: "sam",
		Note: "Received on 2026-03-01 by letter."})
	e.block(active, 2, 3*time.Second)
	return declined, voided, active
}

// The evidence pack in the UI, in Dutch: the bases, the calls with their
// words and keys, the objections and the withdrawal, the stopped dial
// attempts and the check of the records; audited.
func TestEvidencePack(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		declined, voided, active := e.packWorld()
		b := e.signedIn("sam")
		wantBody(t, b.get("/ui/objections/"+active.ID), `href="/ui/evidence?number=%2B31612345672&amp;org=acme"`)
		r := b.get("/ui/evidence?number=06+1234+5672&org=acme&lang=nl")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, `<html lang="nl">`, "Bewijsdossier", "06 1234 5672", "+31612345672", "Acme Charity", "goed doel",
			"Mag nu niet gebeld worden", "Toestemmingen (1)", "form-881", "Klantrelaties (1)", "donatie",
			"Bezwaren (2)", "terugbellijn", "ingetrokken", "Recorded on the wrong number.", "brief", "Received on 2026-03-01 by letter.",
			"Belaanbod: gesprekken met het aanbod om bezwaar te maken (1)", "Wilt u niet meer gebeld worden? Druk 1.", "6,1 s afgespeeld",
			"afgeslagen", "2 om ", "Tegengehouden belpogingen (2)", "dialer-0", "3,00 s na ontvangst",
			"Intact: alle 4 gebeurtenissen", "die van de bezwaren en intrekkingen (3)")
		// The ids are printed, for reference, not shown on screen.
		wantBody(t, r, `<p class="small muted mono no-screen">`+voided.ID)
		if !strings.Contains(r.body, "CA"+declined.CallRef[2:]) {
			t.Fatalf("the call's reference is missing:\n%s", r.body)
		}
		log, _ := e.store.AuditLog(context.Background(), access.AuditFilter{Action: access.AuditView})
		if len(log) == 0 || log[0].Subject != "+31612345672" || log[0].Detail != "evidence pack org=acme lang=nl" || log[0].Orgs.Stored() != "acme" {
			t.Fatalf("the pack is audited as %+v", log)
		}
		// In English, by the pack's own switch; a part of the number finds it.
		r = b.get("/ui/evidence?number=45672&org=acme&lang=en")
		wantBody(t, r, "Evidence pack", "Calls offering the right to object (1)", "Dial attempts stopped (2)", "Intact: all 4 events")
		wantBody(t, b.get("/ui/evidence"), `<select id="org" name="org">`)
		wantStatus(t, b.get("/ui/evidence?number=12&org=acme"), http.StatusUnprocessableEntity)
	})
}

// Only the user's own orgs: another org's pack, or an advertiser's for
// its agency, is not found.
func TestEvidencePackScoped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		w := e.orgWorld()
		e.scopedUser("acme-sup", access.RoleSupervisor, access.Scope{"acme"})
		e.scopedUser("cc1-sup", access.RoleSupervisor, access.Scope{"callcenter1"})
		acme := e.signedIn("acme-sup")
		wantStatus(t, acme.get("/ui/evidence?number="+w.acme.Number), http.StatusOK) // its one org is chosen
		wantBody(t, acme.get("/ui/evidence?number="+w.acme.Number), "Objections (1)")
		wantStatus(t, acme.get("/ui/evidence?number="+w.beta.Number+"&org=beta"), http.StatusNotFound)
		wantStatus(t, e.signedIn("cc1-sup").get("/ui/evidence?number="+w.acmeVia.Number+"&org=acme"), http.StatusNotFound)
	})
}

// tamperedRecords changes the payload of the events it reads, as an edit
// of the stored log would.
type tamperedRecords struct{ testStore }

func (t tamperedRecords) EventsFor(ctx context.Context, id string) ([]objections.Event, error) {
	evs, err := t.testStore.EventsFor(ctx, id)
	for i := range evs {
		evs[i].Payload = []byte(strings.Replace(string(evs[i].Payload), "0612345672", "0612345679", 1))
	}
	return evs, err
}

// An event whose contents no longer match its hash shows in the pack.
func TestEvidencePackShowsABrokenChain(t *testing.T) {
	for _, b := range backends()[:1] {
		st := b.open(t)
		e := newEnvStores(t, st, review.Stores{Access: st, Records: tamperedRecords{st}, Decisions: st})
		_, _, active := e.packWorld()
		r := e.signedIn("sam").get("/ui/evidence?number=" + active.Number + "&org=acme")
		wantBody(t, r, "problems found in the records", "does not match its contents (edited)")
	}
}
