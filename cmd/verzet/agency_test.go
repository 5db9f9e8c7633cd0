package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/telephony/ari/aritest"
)

// The done-when of "Organisations, agencies and access": a Twilio call and
// an ARI call for advertiser acme made by agency callcenter1, key 1 pressed
// on each, leave both numbers blocked for acme and for callcenter1; the
// agency's token may check them and reads the objections and offers of its
// calls; a token scoped to another advertiser (beta) sees nothing of them
// and may not check acme's numbers.
func TestAgencyCallsBlockAdvertiserAndAgency(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			initStore(t, env)
			for _, args := range [][]string{
				{"orgs", "set", "callcenter1", "--name", "Callcenter Eén", "--kind", "agency"},
				{"orgs", "set", "acme", "--name", "Acme Goede Doelen", "--sector", "charity", "--agency", "callcenter1"},
				{"orgs", "set", "beta", "--name", "Beta", "--sector", "charity"},
			} {
				if out, errOut, code := run(t, env, args...); code != 0 {
					t.Fatalf("%v: %d %s %s", args, code, out, errOut)
				}
			}
			token := func(role, name string, orgs ...string) string {
				args := []string{"tokens", "create", "--role", role, "--name", name}
				for _, o := range orgs {
					args = append(args, "--org", o)
				}
				out, errOut, code := run(t, env, args...)
				if code != 0 {
					t.Fatalf("tokens create %s: %d %s", name, code, errOut)
				}
				return strings.TrimSpace(out)
			}
			agencyDialer := token("dialer", "cc1-dialer", "callcenter1")
			agencyReader := token("supervisor", "cc1-reader", "callcenter1")
			betaReader := token("supervisor", "beta-reader", "beta")

			const app = "verzet-agency"
			env, public, fake := serveTwilioAndARI(t, env, app, 60*time.Second)

			// Twilio: the voice URL names the advertiser and the agency.
			out, errOut, code := run(t, env, "simulate", "twilio", "--url", public, "--to", "0612345678", "--keys", "1",
				"--org", "acme", "--agency", "callcenter1")
			if code != 0 {
				t.Fatalf("twilio call: %d\n%s\n%s", code, out, errOut)
			}
			// ARI: the dialplan sets VERZET_ORG and VERZET_AGENCY.
			id, err := fake.StartCall(app, aritest.Call{Vars: map[string]string{
				"VERZET_ORG": "acme", "VERZET_AGENCY": "callcenter1", "VERZET_NUMBER": "0687654321"}})
			if err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "offer", func() bool { ch, _ := fake.Channel(id); return ch.Playing != "" })
			if err := fake.Press(id, "1"); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "hang-up", func() bool { ch, _ := fake.Channel(id); return ch.HungUpBy == "app" })

			get := func(tok, path string) (int, map[string]any) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, public+path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&body)
				return resp.StatusCode, body
			}
			for _, n := range []string{"+31612345678", "+31687654321"} {
				for _, org := range []string{"acme", "callcenter1"} {
					// The CLI reads the store directly; the agency's token through the API.
					if out, _, code := run(t, env, "check", n, "--org", org); code != 1 || !strings.Contains(out, "objection") {
						t.Errorf("verzet check %s --org %s: %d %s", n, org, code, out)
					}
					status, d := get(agencyDialer, "/v1/callability/"+n+"?org="+org)
					if status != http.StatusOK || d["callable"] != false {
						t.Errorf("agency token checks %s for %s: %d %v", n, org, status, d)
					}
				}
				// Beta has no objection on it, and the agency does not call for beta.
				if status, d := get(agencyDialer, "/v1/callability/"+n+"?org=beta"); status != http.StatusForbidden || d["field"] != "org" || d["value"] != "beta" {
					t.Errorf("agency token checks for beta: %d %v", status, d)
				}
				if status, _ := get(betaReader, "/v1/callability/"+n+"?org=acme"); status != http.StatusForbidden {
					t.Errorf("beta token checks for acme: %d", status)
				}
			}

			// The agency reads the objections and offers of its calls, with
			// the agency recorded on each.
			status, list := get(agencyReader, "/v1/objections")
			items, _ := list["items"].([]any)
			if status != http.StatusOK || len(items) != 2 {
				t.Fatalf("agency's objections: %d %v", status, list)
			}
			var ids []string
			for _, it := range items {
				o := it.(map[string]any)
				if o["org"] != "acme" || o["agency"] != "callcenter1" || o["agency_unlisted"] == true {
					t.Errorf("objection %v", o)
				}
				ids = append(ids, o["id"].(string))
			}
			status, offers := get(agencyReader, "/v1/offers")
			if oi, _ := offers["items"].([]any); status != http.StatusOK || len(oi) != 2 || oi[0].(map[string]any)["agency"] != "callcenter1" {
				t.Fatalf("agency's offers: %d %v", status, offers)
			}

			// Beta sees nothing of them.
			for _, path := range []string{"/v1/objections", "/v1/offers", "/v1/objections?org=acme", "/v1/offers?org=callcenter1"} {
				status, page := get(betaReader, path)
				if it, _ := page["items"].([]any); status != http.StatusOK || len(it) != 0 {
					t.Errorf("beta reads %s: %d %v", path, status, page)
				}
			}
			for _, id := range ids {
				if status, _ := get(betaReader, "/v1/objections/"+id); status != http.StatusNotFound {
					t.Errorf("beta reads objection %s: %d", id, status)
				}
				if status, _ := get(agencyReader, "/v1/objections/"+id); status != http.StatusOK {
					t.Errorf("agency reads objection %s: %d", id, status)
				}
			}
			if status, _ := get(betaReader, "/v1/people/+31612345678/evidence?org=acme"); status != http.StatusNotFound {
				t.Errorf("beta reads acme's evidence pack: %d", status)
			}
		})
	}
}
