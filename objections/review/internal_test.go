package review

import (
	"html/template"
	"io/fs"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Every text exists in both languages, and every key a template or the
// code names exists.
func TestMessagesComplete(t *testing.T) {
	for k, m := range messages {
		if strings.TrimSpace(m.en) == "" || strings.TrimSpace(m.nl) == "" {
			t.Errorf("%s lacks a language: %+v", k, m)
		}
		if strings.Count(m.en, "%") != strings.Count(m.nl, "%") {
			t.Errorf("%s: the languages take different arguments: %q / %q", k, m.en, m.nl)
		}
	}
	var keys []string
	for _, s := range allSources {
		keys = append(keys, "source."+string(s))
	}
	for _, s := range allStatuses {
		keys = append(keys, "status."+string(s))
	}
	for _, a := range allActions {
		keys = append(keys, "action."+string(a))
	}
	for _, o := range []objections.Outcome{objections.OutcomeObjected, objections.OutcomeDeclined, objections.OutcomeNoInput,
		objections.OutcomeInvalidInput, objections.OutcomeHangupDuringPrompt, objections.OutcomeError} {
		keys = append(keys, "outcome."+string(o))
	}
	for _, e := range []string{objections.EndedByCaller, objections.EndedBySystem, objections.EndedByProvider} {
		keys = append(keys, "endedBy."+e)
	}
	for _, r := range []access.Role{access.RoleSupervisor, access.RoleAdmin} {
		keys = append(keys, "role."+string(r), "users.roleHelp."+string(r))
	}
	for _, c := range append(append([]string{}, objectionColumns...), offerColumns...) {
		keys = append(keys, "csv."+c)
	}
	for _, k := range []objections.EventKind{objections.EventObjectionRecorded, objections.EventObjectionVoided, objections.EventOfferRecorded} {
		keys = append(keys, "event."+string(k))
	}
	for _, k := range auditPhrases {
		keys = append(keys, k)
	}
	for k := range auditKeys {
		keys = append(keys, "audit.k."+k)
	}
	for _, k := range []string{"charity", "lottery", "press", "other"} {
		keys = append(keys, "sector."+k)
	}
	for _, k := range []objections.ConsentChannel{objections.ChannelPhone, objections.ChannelEmail, objections.ChannelSMS} {
		keys = append(keys, "channel."+string(k))
	}
	for _, k := range []objections.RelationKind{objections.RelationPurchase, objections.RelationDonation, objections.RelationVolunteer,
		objections.RelationManifestation, objections.RelationService} {
		keys = append(keys, "relation."+string(k))
	}
	for _, k := range []objections.Basis{objections.BasisConsent, objections.BasisCustomerRelation, objections.BasisNone} {
		keys = append(keys, "basis."+string(k))
	}
	for _, k := range []string{"ending", "starting"} {
		keys = append(keys, "search.candidates."+k, "search.none."+k)
	}
	for _, d := range []string{"access", "disabled", "enabled"} {
		keys = append(keys, "users.done."+d)
	}
	for _, c := range channels {
		keys = append(keys, "record.channel."+c.Key, "record.channelName."+c.Key)
	}
	for _, r := range []objections.Reason{objections.ReasonObjection, objections.ReasonConsentVoidedByObjection, objections.ReasonNoBasis,
		objections.ReasonRelationExpired, objections.ReasonSectorNoRelationBasis, objections.ReasonConsentWithdrawn,
		objections.ReasonConsent, objections.ReasonCustomerRelation, objections.ReasonMustOfferObjection} {
		keys = append(keys, "reason."+string(r))
	}
	// Keys written literally in templates and Go code.
	literal := regexp.MustCompile(`\.T "([a-zA-Z.]+)"|\bT\("([a-zA-Z.]+)"`)
	err := fs.WalkDir(templateFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1]+m[2])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 150 {
		t.Fatalf("found only %d keys: is the pattern still right?", len(keys))
	}
	for _, k := range keys {
		if _, ok := messages[k]; !ok {
			t.Errorf("no text for %q", k)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "en"},
		{"nl", "nl"},
		{"nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"},
		{"en-GB,en;q=0.9,nl;q=0.8", "en"},
		{"de-DE,de;q=0.9", "en"},
		{"de;q=1, nl;q=0.5", "nl"},
		{"en;q=0.2, NL-be;q=0.8", "nl"},
		{"nl;q=0, en;q=0.1", "en"},
		{"*", "en"},
	} {
		if got := negotiate(tc.header); got != tc.want {
			t.Errorf("negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/ui/objections"},
		{"/ui/dashboard?x=1", "/ui/dashboard?x=1"},
		{"//evil.example/ui/", "/ui/objections"},
		{"https://evil.example/ui/", "/ui/objections"},
		{"/ui/\\evil", "/ui/objections"},
		{"/ui/x\r\nSet-Cookie: a=b", "/ui/objections"},
		{"/elsewhere", "/ui/objections"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNiceMax(t *testing.T) {
	for _, tc := range []struct {
		v, min  float64
		integer bool
		want    float64
	}{
		{0, 4, true, 4}, {3, 4, true, 4}, {7, 4, true, 8}, {11, 4, true, 12}, {21, 4, true, 40}, {39, 4, true, 40},
		{41, 4, true, 80}, {90, 4, true, 100}, {480, 4, true, 800}, {1001, 4, true, 1200},
		{3.1, 4, false, 4}, {7, 4, false, 8}, {9, 4, false, 10}, {12.5, 4, false, 20}, {33, 4, false, 40},
	} {
		if got := niceMax(tc.v, tc.min, tc.integer); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("niceMax(%v, %v, %v) = %v, want %v", tc.v, tc.min, tc.integer, got, tc.want)
		}
	}
}

func TestLexiconFormats(t *testing.T) {
	en, nl := lexicon{Lang: "en"}, lexicon{Lang: "nl"}
	day := time.Date(2026, 3, 2, 8, 5, 9, 120e6, time.UTC) // 09:05:09.120 in Amsterdam
	for _, tc := range []struct{ got, want string }{
		{en.Int(1234567), "1,234,567"}, {nl.Int(1234567), "1.234.567"}, {en.Int(12), "12"}, {nl.Int(-1234), "-1.234"},
		{en.Percent(0.125, 1), "12.5%"}, {nl.Percent(0.125, 1), "12,5%"},
		{en.Rate(1, 4), "25.0%"}, {nl.Rate(0, 0), "–"},
		{en.Seconds(5300), "5.3 s"}, {nl.Seconds(5300), "5,3 s"},
		{en.ShortDate(day), "2 Mar"}, {nl.ShortDate(day), "2 mrt"},
		{en.LongDate(day), "Mon 2 Mar 2026"}, {nl.LongDate(day), "ma 2 mrt 2026"},
		{en.DateTime(day), "2 Mar 2026 09:05:09"}, {nl.Precise(day), "2 mrt 2026 09:05:09,120"},
		{en.DateTime(time.Time{}), ""},
		{en.Latency(2040 * time.Millisecond), "2.04 s"}, {nl.Latency(2040 * time.Millisecond), "2,04 s"},
		{en.Latency(-120 * time.Millisecond), "-0.12 s"},
		{en.Latency(3*time.Minute + 12*time.Second), "3 min 12 s"},
		{en.Latency(5*time.Hour + 3*time.Minute), "5 h 3 min"}, {nl.Latency(5*time.Hour + 3*time.Minute), "5 u 3 min"},
		{en.Latency(76 * time.Hour), "3 d 4 h"}, {nl.Latency(76 * time.Hour), "3 d 4 u"},
		{en.T("tl.key", "1"), "Key 1 pressed"}, {nl.T("tl.key", "1"), "Toets 1 ingedrukt"},
		{en.T("no.such.key"), "no.such.key"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// The charts scale to the data and leave gaps for days without offers.
func TestCharts(t *testing.T) {
	l := lexicon{Lang: "en"}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, objections.Amsterdam())
	days := []dayRow{
		{Day: day, totals: totals{Offers: 10, Objected: 2, Objections: 3}},
		{Day: day.AddDate(0, 0, 1)},
		{Day: day.AddDate(0, 0, 2), totals: totals{Offers: 4, Objected: 1, Objections: 1}},
		{Day: day.AddDate(0, 0, 3), totals: totals{Offers: 5, Objected: 1, Objections: 1}},
	}
	c := dayChart(l, days)
	if len(c.Bars) != 8 || c.Empty != "" || len(c.Grid) != gridTicks+1 || c.YLabels[gridTicks].Text != "12" {
		t.Fatalf("day chart = %+v", c)
	}
	plotH := float64(chartH - padTop - padBottom)
	if top := c.Bars[0]; math.Abs(top.H-plotH*10/12) > 1e-9 || math.Abs(top.Y+top.H-(padTop+plotH)) > 1e-9 {
		t.Fatalf("the bar of 10 on an axis of 12 = %+v", top)
	}
	r := rateChart(l, days)
	if len(r.Dots) != 3 || len(r.Lines) != 1 || strings.Count(r.Lines[0], ",") != 2 || r.YLabels[gridTicks].Text != "40%" {
		t.Fatalf("rate chart = %+v", r)
	}
	if e := dayChart(l, days[1:2]); e.Empty == "" {
		t.Fatal("an empty range draws no notice")
	}
	cc := campaignChart(l, []campaignRow{{Name: "spring", totals: totals{Offers: 8, Objected: 2, Objections: 2}}, {Name: ""}})
	if len(cc.Bars) != 4 || cc.YLabels[1].Text != "(no campaign)" || cc.XLabels[0].Text != "25.0%" || cc.XLabels[1].Text != "–" {
		t.Fatalf("campaign chart = %+v", cc)
	}
}

func TestTemplatesParse(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range pageNames {
		if pages[name] == nil || pages[name].Lookup("content") == nil {
			t.Errorf("page %s has no content", name)
		}
	}
	var _ *template.Template = pages["signin"]
}

func TestPasswordRules(t *testing.T) {
	for _, tc := range []struct {
		pw, name string
		ok       bool
	}{
		{"correct horse battery", "sam", true},
		{"short", "sam", false},
		{strings.Repeat("x", 73), "sam", false},
		{"            ", "sam", false},
		{"averylongusername", "averylongusername", false},
		{"ëëëëëëëëëëëë", "sam", true},
	} {
		if err := ValidatePassword(tc.pw, tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidatePassword(%q) = %v", tc.pw, err)
		}
	}
	if c, err := bcrypt.Cost([]byte(dummyHash12)); err != nil || c != DefaultBcryptCost {
		t.Fatalf("dummyHash12 has cost %d (%v)", c, err)
	}
	for _, cost := range []int{3, 32} {
		if _, err := New(nil, Stores{}, nil, Config{BcryptCost: cost}); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("cost %d: %v", cost, err)
		}
	}
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != 23 || seen[p] || ValidatePassword(p, "admin") != nil || strings.ContainsAny(p, "01ilo") {
			t.Fatalf("generated %q", p)
		}
		seen[p] = true
	}
}

// Audit details read in both languages; what the page does not know is
// shown as written.
func TestAuditDetailText(t *testing.T) {
	nl, en := lexicon{Lang: "nl"}, lexicon{Lang: "en"}
	for _, tc := range []struct {
		l      lexicon
		action access.AuditAction
		detail string
		want   string
	}{
		{nl, access.AuditSignInFailed, "unknown user name", "onbekende gebruikersnaam"},
		{nl, access.AuditExport, "all objections", "alle bezwaren"},
		{nl, access.AuditExport, "number=+31612345678 org=acme status=voided", "nummer: +31612345678, organisatie: acme, status: ingetrokken"},
		{en, access.AuditExport, "campaign=spring since=2026-03-01T23:00:00Z", "campaign: spring, from: 2 Mar 2026 00:00:00"},
		{nl, access.AuditView, "evidence pack org=acme lang=nl", "bewijsdossier — organisatie: acme, taal: nl"},
		{nl, access.AuditView, "list org=acme number=+31612345678", "lijst — organisatie: acme, nummer: +31612345678"},
		{nl, access.AuditUserChanged, "role=admin orgs=all was_role=supervisor was_orgs=acme,beta",
			"rol: beheerder, organisaties: alle organisaties, rol was: supervisor, organisaties waren: acme, beta"},
		{nl, access.AuditObjection, `source=letter reference="BR 2026/113"`, "bron: brief, kenmerk: BR 2026/113"},
		{nl, access.AuditVoid, "role=admin is a reason", "role=admin is a reason"},
		{nl, access.AuditExport, "format=csv weird=1", "format=csv weird=1"},
		{nl, access.AuditExport, "something else entirely", "something else entirely"},
		{nl, access.AuditObjection, `reference="unterminated`, `reference="unterminated`},
	} {
		if got := auditDetailText(tc.l, tc.action, tc.detail); got != tc.want {
			t.Errorf("%s %q = %q, want %q", tc.l.Lang, tc.detail, got, tc.want)
		}
	}
}
