package review_test

import (
	"context"
	"encoding/csv"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// orgWorld is agency callcenter1, advertiser acme that lists it, and
// advertiser beta, with an objection of acme's own, one of acme made on
// callcenter1's call (with its offer, and checks it blocked for acme and
// for callcenter1), and one of beta (with its offer).
type orgWorld struct {
	acme, acmeVia, beta objections.Objection
	viaOffer, betaOffer objections.Offer
}

func (e *env) orgWorld() orgWorld {
	e.t.Helper()
	ctx := context.Background()
	for _, o := range []objections.Org{
		{ID: "callcenter1", Name: "Callcenter One", Kind: objections.OrgAgency},
		{ID: "acme", Name: "Acme Charity", Sector: objections.SectorCharity, Agencies: []string{"callcenter1"}},
		{ID: "beta", Name: "Beta Lottery", Sector: objections.SectorLottery},
	} {
		if _, err := e.reg.SetOrg(ctx, o); err != nil {
			e.t.Fatal(err)
		}
	}
	offer := func(o objections.Offer) objections.Offer {
		e.t.Helper()
		at := e.clk.Now()
		o.Provider, o.StartedAt, o.EndedAt = "twilio", at, at.Add(20*time.Second)
		rec, _, err := e.reg.RecordOffer(ctx, o)
		if err != nil {
			e.t.Fatal(err)
		}
		return rec
	}
	var w orgWorld
	w.acme = e.record(objections.Objection{Org: "acme", RawNumber: "0612345671", CampaignRef: "spring"})
	w.viaOffer = offer(objections.Offer{Org: "acme", Agency: "callcenter1", Number: "0612345672", CallRef: "CA-via",
		CampaignRef: "spring", Outcome: objections.OutcomeObjected})
	w.acmeVia = e.record(objections.Objection{Org: "acme", Agency: "callcenter1", RawNumber: "0612345672", CampaignRef: "spring",
		Source: objections.SourceIVRTwilio, Provider: "twilio", CallRef: "CA-via", OfferID: w.viaOffer.ID})
	w.betaOffer = offer(objections.Offer{Org: "beta", Number: "0612345673", CallRef: "CA-beta", CampaignRef: "autumn",
		Outcome: objections.OutcomeObjected})
	w.beta = e.record(objections.Objection{Org: "beta", RawNumber: "0612345673", CampaignRef: "autumn",
		Source: objections.SourceIVRTwilio, Provider: "twilio", CallRef: "CA-beta", OfferID: w.betaOffer.ID})
	e.blockFor("acme", w.acmeVia, 2, time.Second)
	e.blockFor("callcenter1", w.acmeVia, 3, 10*time.Minute)
	e.blockFor("beta", w.beta, 4, time.Second)
	if _, err := e.store.AppendDecisions(ctx, nil, []objections.DecisionCount{
		count("acme", "2026-03-02", false, objections.ReasonObjection, 7),
		count("beta", "2026-03-02", false, objections.ReasonObjection, 11),
		count("callcenter1", "2026-03-02", false, objections.ReasonObjection, 13),
	}); err != nil {
		e.t.Fatal(err)
	}
	return w
}

var (
	dashObjectionsRE = regexp.MustCompile(`<p class="stat-label">Objections</p><p class="stat-value">([^<]+)</p>`)
	orgOptionRE      = regexp.MustCompile(`<option value="([^"]+)"`)
	langLinkRE       = regexp.MustCompile(`href="/ui/lang/[^"]*"`)
)

// orgOptions returns the orgs a page's org selector offers.
func orgOptions(t *testing.T, r resp) []string {
	t.Helper()
	_, sel, ok := strings.Cut(r.body, `<select id="org" name="org">`)
	if !ok {
		t.Fatalf("the page has no org selector:\n%s", r.body)
	}
	sel, _, _ = strings.Cut(sel, "</select>")
	var out []string
	for _, m := range orgOptionRE.FindAllStringSubmatch(sel, -1) {
		out = append(out, m[1])
	}
	return out
}

// Every page of the UI and its CSV export for users scoped to an
// advertiser (acme, beta), to an agency (callcenter1, which acme lists),
// and to every org, as supervisor and as admin: a user sees the records
// of the orgs of its scope and, as an agency, those of its own calls;
// other orgs' objections are not found by id and absent everywhere else.
func TestOrgScopeOnEveryPage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		w := e.orgWorld()
		ctx := context.Background()
		all := map[string]objections.Objection{"acme": w.acme, "acmeVia": w.acmeVia, "beta": w.beta}
		offerOf := map[string]string{"acmeVia": w.viaOffer.ID, "beta": w.betaOffer.ID}
		cases := []struct {
			user   string
			scope  access.Scope
			sees   []string // the objections the user sees
			voids  []string // … and may void (the rest it sees: 403)
			orgs   []string // the org selector's options
			total  string   // the dashboard's objections
			checks bool     // sees acme's dial-time checks
			stops  string   // the count of checks acmeVia stopped, when seen
		}{
			// Unscoped first: the others' audit logs then hold its views
			// of every org's objections.
			{"all", nil, []string{"acme", "acmeVia", "beta"}, []string{"acme", "acmeVia", "beta"},
				[]string{"acme", "beta", "callcenter1"}, "3", true, "5 dial attempts"},
			{"acme", access.Scope{"acme"}, []string{"acme", "acmeVia"}, []string{"acme", "acmeVia"},
				[]string{"acme"}, "2", true, "2 dial attempts"},
			{"beta", access.Scope{"beta"}, []string{"beta"}, []string{"beta"},
				[]string{"beta"}, "1", false, ""},
			{"cc", access.Scope{"callcenter1"}, []string{"acmeVia"}, nil,
				[]string{"acme", "callcenter1"}, "1", false, "3 dial attempts"},
		}
		for _, tc := range cases {
			for _, role := range []access.Role{access.RoleSupervisor, access.RoleAdmin} {
				name := tc.user + "-" + string(role)
				e.scopedUser(name, role, tc.scope)
				t.Run(name, func(t *testing.T) {
					b := e.signedIn(name)
					// hidden are the strings no page may show this user:
					// the ids of the objections and offers it does not see.
					var hidden, hiddenNumbers []string
					for k, o := range all {
						if !slices.Contains(tc.sees, k) {
							hidden = append(hidden, o.ID)
							hiddenNumbers = append(hiddenNumbers, o.Number)
							if id := offerOf[k]; id != "" {
								hidden = append(hidden, id)
							}
						}
					}
					get := func(path string, status int, numbersToo bool) resp {
						t.Helper()
						r := b.get(path)
						wantStatus(t, r, status)
						// The language switch repeats the path asked for.
						text := html.UnescapeString(langLinkRE.ReplaceAllString(r.body, ""))
						for _, h := range hidden {
							if strings.Contains(text, h) {
								t.Fatalf("%s shows %s of an org %s does not see:\n%s", path, h, name, r.body)
							}
						}
						for _, n := range hiddenNumbers {
							if numbersToo && strings.Contains(text, n) {
								t.Fatalf("%s shows number %s of an org %s does not see:\n%s", path, n, name, r.body)
							}
						}
						return r
					}
					shown := func(r resp, keys ...string) {
						t.Helper()
						for _, k := range keys {
							if !strings.Contains(r.body, all[k].ID) {
								t.Fatalf("the page lacks %s's objection %s:\n%s", k, all[k].ID, r.body)
							}
						}
					}

					// The list, its org selector, and filters that name
					// an org the user does not see.
					r := get("/ui/objections", http.StatusOK, true)
					shown(r, tc.sees...)
					if got := orgOptions(t, r); !slices.Equal(got, tc.orgs) {
						t.Fatalf("org selector %q, want %q", got, tc.orgs)
					}
					for _, org := range []string{"acme", "beta", "callcenter1", "nobody"} {
						get("/ui/objections?org="+org, http.StatusOK, true)
					}
					// The search, by each number.
					for k, o := range all {
						r := get("/ui/objections?q="+url.QueryEscape(o.Number), http.StatusOK, false)
						if slices.Contains(tc.sees, k) {
							shown(r, k)
						} else {
							wantBody(t, r, "No objections match this filter.")
						}
					}
					// The detail page and the void page, by id. A
					// supervisor may void nothing: 403 before the id is
					// read.
					for k, o := range all {
						detail, void := http.StatusNotFound, http.StatusNotFound
						if slices.Contains(tc.sees, k) {
							detail, void = http.StatusOK, http.StatusForbidden
						}
						switch {
						case role != access.RoleAdmin:
							void = http.StatusForbidden
						case slices.Contains(tc.voids, k):
							void = http.StatusOK
						}
						r := get("/ui/objections/"+o.ID, detail, true)
						if detail == http.StatusOK && strings.Contains(r.body, o.ID+"/void") != (void == http.StatusOK) {
							t.Fatalf("%s: the void link shown = %v, may void = %v", k, !(void == http.StatusOK), void == http.StatusOK)
						}
						if detail == http.StatusNotFound {
							wantBody(t, r, "This page or objection does not exist.")
						}
						get("/ui/objections/"+o.ID+"/void", void, true)
					}
					// The checks acmeVia stopped: those made for the orgs
					// of the scope.
					if tc.stops != "" {
						sec := stopsSection(t, b.get("/ui/objections/"+w.acmeVia.ID))
						if !strings.Contains(sec, tc.stops+"<") {
							t.Fatalf("acmeVia's stops, want %s:\n%s", tc.stops, sec)
						}
					}
					// The agency of the call, on its detail page.
					if slices.Contains(tc.sees, "acmeVia") {
						wantBody(t, get("/ui/objections/"+w.acmeVia.ID, http.StatusOK, true), "Callcenter One", "called by Callcenter One")
					}

					// The CSV export, whole and for each org.
					rows := func(path string) []string {
						t.Helper()
						r := get(path, http.StatusOK, true)
						recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
						if err != nil {
							t.Fatal(err)
						}
						var ids []string
						id := slices.Index(recs[0], "Id")
						for _, rec := range recs[1:] {
							ids = append(ids, rec[id])
						}
						slices.Sort(ids)
						return ids
					}
					var want []string
					for _, k := range tc.sees {
						want = append(want, all[k].ID)
					}
					slices.Sort(want)
					if got := rows("/ui/export.csv"); !slices.Equal(got, want) {
						t.Fatalf("export ids %q, want %q", got, want)
					}
					if got := rows("/ui/export.csv?org=beta"); slices.Contains(tc.sees, "beta") != (len(got) == 1) {
						t.Fatalf("export of beta = %q", got)
					}

					// The dashboard: counts, selector, dial-time checks.
					r = get("/ui/dashboard?from=2026-03-01&to=2026-03-03", http.StatusOK, true)
					if m := dashObjectionsRE.FindStringSubmatch(r.body); m == nil || m[1] != tc.total {
						t.Fatalf("dashboard objections %q, want %s:\n%s", m, tc.total, r.body)
					}
					if got := orgOptions(t, r); !slices.Equal(got, tc.orgs) {
						t.Fatalf("dashboard org selector %q, want %q", got, tc.orgs)
					}
					r = get("/ui/dashboard?org=acme&from=2026-03-01&to=2026-03-03", http.StatusOK, true)
					if strings.Contains(r.body, `id="checks-blocked">7<`) != tc.checks {
						t.Fatalf("acme's checks shown = %v, want %v:\n%s", !tc.checks, tc.checks, r.body)
					}
					if !tc.checks {
						wantBody(t, r, "Dial-time checks are shown only for your own organisations.")
					}
					for _, org := range []string{"beta", "callcenter1", "nobody"} {
						r := get("/ui/dashboard?org="+org+"&from=2026-03-01&to=2026-03-03", http.StatusOK, true)
						if tc.scope.Has(org) == strings.Contains(r.body, "shown only for your own organisations") {
							t.Fatalf("%s's checks: hint shown = %v for scope %v", org, !tc.scope.Has(org), tc.scope)
						}
					}

					if role != access.RoleAdmin {
						return
					}
					// The audit log: entries about the orgs of the scope.
					r = get("/ui/audit", http.StatusOK, true)
					wantBody(t, r, "exported")
					if tc.user == "acme" {
						shown(r, "acme") // all's view of it
					}
					// A void of an objection the user does not see is not
					// found; of one it sees as the agency of the call,
					// forbidden. Neither is done.
					for k, o := range all {
						var status int
						switch {
						case slices.Contains(tc.voids, k):
							status = http.StatusUnprocessableEntity // no reason given: checked after access
						case slices.Contains(tc.sees, k):
							status = http.StatusForbidden
						default:
							status = http.StatusNotFound
						}
						reason := "test"
						if status == http.StatusUnprocessableEntity {
							reason = ""
						}
						r := b.submit("/ui/objections", "/ui/objections/"+o.ID+"/void", url.Values{"reason": {reason}})
						wantStatus(t, r, status)
						if got, _ := e.store.Objection(ctx, o.ID); got.Void != nil {
							t.Fatalf("%s voided %s", name, k)
						}
					}
				})
			}
		}
		// An agency's user is told why it may not void.
		r := e.signedIn("cc-admin").get("/ui/objections/" + w.acmeVia.ID + "/void")
		wantBody(t, r, "you see it because your agency made the call")
		// Audit entries name the orgs they concern: a view the
		// objection's org, an export its org filter, else the user's
		// scope.
		list, err := e.store.AuditLog(ctx, access.AuditFilter{Scope: access.Scope{"beta"}})
		if err != nil {
			t.Fatal(err)
		}
		var views, exports int
		for _, en := range list {
			switch {
			case en.Subject == w.acme.ID || en.Subject == w.acmeVia.ID:
				t.Fatalf("beta's audit log holds %+v", en)
			case en.Action == access.AuditView:
				views++
			case en.Action == access.AuditExport && en.Detail == "all objections" && !slices.Contains(en.Orgs, "beta"):
				t.Fatalf("beta's audit log holds %+v", en)
			case en.Action == access.AuditExport:
				exports++
			}
		}
		if views == 0 || exports == 0 {
			t.Fatalf("beta's audit log: %d views and %d exports", views, exports)
		}
		// A void by the advertiser's admin of its objection made through
		// the agency.
		acme := e.signedIn("acme-admin")
		r = acme.submit("/ui/objections", "/ui/objections/"+w.acmeVia.ID+"/void", url.Values{"reason": {"wrong number"}})
		wantRedirect(t, r, "/ui/objections/"+w.acmeVia.ID+"?voided=1")
		list, _ = e.store.AuditLog(ctx, access.AuditFilter{Action: access.AuditVoid})
		if len(list) != 1 || !slices.Equal(list[0].Orgs, access.Scope{"acme"}) {
			t.Fatalf("void audit = %+v", list)
		}
	})
}

// The agency of a call shows in the list, on the detail page and in the
// export; an agency the advertiser did not list is flagged, in both
// languages.
func TestAgencyShownAndUnlistedFlagged(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.orgWorld()
		rogue := e.record(objections.Objection{Org: "acme", Agency: "rogue", RawNumber: "0612345679"})
		if !rogue.AgencyUnlisted {
			t.Fatalf("rogue is not flagged: %+v", rogue)
		}
		b := e.signedIn("sam")
		r := b.get("/ui/objections/" + rogue.ID)
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "Agency (made the call)", `<span class="muted mono">rogue</span>`, "Agency not listed by the advertiser",
			"When this objection was recorded, Acme Charity did not list rogue among the agencies that may call for it.")
		b.header.Set("Accept-Language", "nl")
		wantBody(t, b.get("/ui/objections/"+rogue.ID), "Bureau niet gemachtigd door de adverteerder",
			"stond rogue niet bij de bureaus die voor Acme Charity mogen bellen")
		wantBody(t, b.get("/ui/objections"), "<th scope=\"col\">Bureau</th>", "niet gemachtigd")
		b.header.Del("Accept-Language")
		// A listed agency is not flagged.
		list := b.get("/ui/objections?campaign=spring")
		wantBody(t, list, "<th scope=\"col\">Agency</th>", "Callcenter One")
		if strings.Contains(list.body, "badge-unlisted") {
			t.Fatalf("a listed agency is flagged:\n%s", list.body)
		}
		if r := b.get("/ui/objections?q=0612345679"); !strings.Contains(r.body, "badge-unlisted") {
			t.Fatalf("the list does not flag an unlisted agency:\n%s", r.body)
		}
		// The export's agency columns.
		recs, err := csv.NewReader(strings.NewReader(b.get("/ui/export.csv").body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		head := recs[0]
		id, agency, unlisted := slices.Index(head, "Id"), slices.Index(head, "Agency"), slices.Index(head, "Agency not listed")
		if id < 0 || agency < 0 || unlisted < 0 {
			t.Fatalf("header %q", head)
		}
		got := map[string]string{}
		for _, rec := range recs[1:] {
			got[rec[id]] = rec[agency] + "/" + rec[unlisted]
		}
		if got[rogue.ID] != "rogue/yes" || !slices.Contains(slices.Collect(maps.Values(got)), "callcenter1/no") {
			t.Fatalf("agency columns %v", got)
		}
	})
}
