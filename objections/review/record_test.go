package review_test

import (
	"context"
	"html"
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

var keyRE = regexp.MustCompile(`name="key" value="([^"]+)"`)

// recordForm returns the form of /ui/objections/new with its key and
// token, and the fields given.
func (b *browser) recordForm(fields url.Values) url.Values {
	b.e.t.Helper()
	r := b.get("/ui/objections/new")
	wantStatus(b.e.t, r, http.StatusOK)
	m := keyRE.FindStringSubmatch(r.body)
	t := tokenRE.FindStringSubmatch(r.body)
	if m == nil || t == nil {
		b.e.t.Fatalf("no key or token on the form:\n%s", r.body)
	}
	fields.Set("key", html.UnescapeString(m[1]))
	fields.Set("csrf", html.UnescapeString(t[1]))
	return fields
}

// A supervisor records an objection received by letter: it takes effect
// at once (its time is the clock's, not the letter's date, which goes in
// the note), it is audited, and a second send of the same form is the
// same objection.
func TestSupervisorRecordsObjectionByLetter(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.orgWorld()
		sam := e.signedIn("sam")
		wantBody(t, sam.get("/ui/objections"), `href="/ui/objections/new"`)
		form := sam.recordForm(url.Values{"number": {"06 5555 1234"}, "org": {"acme"}, "channel": {"letter"}, "received": {"2026-02-27"},
			"reference": {"BR 2026/113"}, "note": {"Wil niet meer gebeld worden."}, "person": {"klant-77"}})
		r := sam.post("/ui/objections/new", form)
		wantRedirect(t, r, "/ui/objections/")
		loc := r.header.Get("Location")
		if !strings.HasSuffix(loc, "?recorded=1") {
			t.Fatalf("redirected to %s", loc)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/ui/objections/"), "?recorded=1")
		o, err := e.store.Objection(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if o.Org != "acme" || o.Number != "+31655551234" || o.RawNumber != "06 5555 1234" || o.Source != objections.SourceLetter ||
			o.Actor != "sam" || o.PersonID != "klant-77" || !o.ReceivedAt.Equal(e.clk.Now()) ||
			o.Note != "Received on 2026-02-27 by letter; reference BR 2026/113.\nWil niet meer gebeld worden." {
			t.Fatalf("recorded %+v", o)
		}
		d := sam.get(loc)
		wantBody(t, d, "Objection recorded. It is in force from 2 Mar 2026 10:03:00", "May not be called now", "what a dialer is told: objection")
		dec, err := e.reg.Decide(context.Background(), "acme", "0655551234", "", time.Time{})
		if err != nil || dec.Callable {
			t.Fatalf("the number is callable after the objection: %+v %v", dec, err)
		}
		// The same form again: the same objection.
		r = sam.post("/ui/objections/new", form)
		wantRedirect(t, r, loc)
		// The same form for another number: refused, with a fresh form.
		form.Set("number", "06 5555 9999")
		r = sam.post("/ui/objections/new", form)
		wantStatus(t, r, http.StatusConflict)
		wantBody(t, r, "sent before, for another number")
		if m := keyRE.FindStringSubmatch(r.body); m == nil || html.UnescapeString(m[1]) == form.Get("key") {
			t.Fatalf("the refused form keeps its key:\n%s", r.body)
		}
		// A new form for the same number: the objection there is shown.
		r = sam.post("/ui/objections/new", sam.recordForm(url.Values{"number": {"+31655551234"}, "org": {"acme"}, "channel": {"email"},
			"received": {"2026-03-02"}}))
		wantRedirect(t, r, "/ui/objections/"+id+"?existing=1")
		wantBody(t, sam.get("/ui/objections/"+id+"?existing=1"), "Nothing new was recorded")
		list, _ := e.store.Objections(context.Background(), objections.ObjectionFilter{Number: "+31655551234"})
		if len(list) != 1 {
			t.Fatalf("%d objections on the number, want 1", len(list))
		}
		acts := strings.Join(auditActions(t, e), " ")
		if strings.Count(acts, "sam:objection") != 1 {
			t.Fatalf("audit = %s", acts)
		}
	})
}

// The form refuses what it cannot record, and an org the user may not
// write for; it offers only the user's own orgs.
func TestRecordObjectionRefusals(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.orgWorld()
		e.scopedUser("acme-sup", access.RoleSupervisor, access.Scope{"acme"})
		e.scopedUser("cc1-sup", access.RoleSupervisor, access.Scope{"callcenter1"})
		sup := e.signedIn("acme-sup")
		if got := orgOptions(t, sup.get("/ui/objections/new")); !slices.Equal(got, []string{"acme"}) {
			t.Fatalf("acme's supervisor is offered %v", got)
		}
		if got := orgOptions(t, e.signedIn("cc1-sup").get("/ui/objections/new")); !slices.Equal(got, []string{"callcenter1"}) {
			t.Fatalf("the agency's supervisor is offered %v", got)
		}
		good := url.Values{"number": {"0612340000"}, "org": {"acme"}, "channel": {"phone"}, "received": {"2026-03-01"}}
		for _, tc := range []struct {
			name  string
			field string
			value string
			want  string
		}{
			{"another org", "org", "beta", "Choose one of your organisations"},
			{"the agency's advertiser", "org", "callcenter1", "Choose one of your organisations"},
			{"no channel", "channel", "fax", "Choose how the objection reached you"},
			{"tomorrow", "received", "2026-03-03", "after today"},
			{"no date", "received", "", "is not a date"},
			{"bad number", "number", "12", "is not a phone number verzet can read"},
			{"no number", "number", "", "Give the phone number"},
		} {
			form := sup.recordForm(url.Values{})
			for k, v := range good {
				form[k] = v
			}
			form.Set(tc.field, tc.value)
			r := sup.post("/ui/objections/new", form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantBody(t, r, tc.want)
		}
		list, _ := e.store.Objections(context.Background(), objections.ObjectionFilter{Number: "+31612340000"})
		if len(list) != 0 {
			t.Fatalf("a refused form recorded %+v", list)
		}
		// Without the form token nothing is recorded.
		form := sup.recordForm(good)
		form.Del("csrf")
		wantStatus(t, sup.post("/ui/objections/new", form), http.StatusForbidden)
		// Admins record too; the void stays theirs.
		ada := e.signedIn("ada")
		wantRedirect(t, ada.post("/ui/objections/new", ada.recordForm(good)), "/ui/objections/")
	})
}
