package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// pdfMediaBoxRE reads the page sizes of a PDF, in points.
var pdfMediaBoxRE = regexp.MustCompile(`/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]`)

// signIn fills in the sign-in form and sends it.
func (u *ui) signIn(name, password string) {
	u.t.Helper()
	u.do(chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
}

func (u *ui) signOut() {
	u.t.Helper()
	u.do(chromedp.Click(chromedp.CSS("form[action='/ui/signout'] button")))
	u.waitText("U bent uitgelogd.")
}

// download clicks sel and returns the file that arrives in dir matching
// glob.
func (u *ui) download(sel, dir, glob string) string {
	u.t.Helper()
	u.do(chromedp.Click(chromedp.CSS(sel)))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		matches, _ := filepath.Glob(filepath.Join(dir, glob))
		if len(matches) == 1 {
			if b, err := os.ReadFile(matches[0]); err == nil && len(b) > 0 {
				return matches[0]
			}
		}
	}
	u.t.Fatalf("%s was not downloaded", glob)
	return ""
}

// The browser test (issue 18): a supervisor runs the register from
// the UI, in Dutch. An admin creates the supervisor; the supervisor signs
// in, records an objection received by letter and sees the number blocked,
// opens the calls view with a declined call, prints the evidence pack,
// exports a Dutch CSV, and finds the number by its last four digits; once
// disabled, the supervisor cannot sign in. The screenshots of the new pages
// go to the folder the repository ignores; docs/screenshots keeps copies.
func TestSupervisorRunsTheRegisterInChromium(t *testing.T) {
	srv := startUIServer(t)
	now := time.Now()
	seed(t, srv.dataDir, now)
	ctx := newBrowser(t)
	u := &ui{t: t, ctx: ctx, base: srv.base, shot: screenshotDir(t)}
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}

	// The admin, in Dutch, with the first sign-in serve printed.
	u.do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.base+"/ui/lang/nl?next=/ui/signin"))
	u.waitText("Inloggen bij verzet")
	u.signIn("admin", srv.bootstrap)
	u.waitText("Kies eerst uw eigen wachtwoord")
	adminPassword := "a calm and quiet morning"
	u.do(chromedp.SendKeys(chromedp.CSS("#current"), srv.bootstrap),
		chromedp.SendKeys(chromedp.CSS("#new"), adminPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), adminPassword),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	u.waitText("Bezwaar vastleggen")

	// The admin creates a supervisor for Acme; its one-time password is
	// shown once.
	u.do(chromedp.Click(chromedp.CSS("nav a[href='/ui/users']")))
	u.waitText("Nieuwe gebruiker")
	u.do(chromedp.Click(chromedp.CSS("a[href='/ui/users/new']")))
	u.waitText("eenmalig wachtwoord")
	u.do(chromedp.SendKeys(chromedp.CSS("#name"), "marieke"),
		chromedp.Click(chromedp.CSS("input[name=org][value=acme]")))
	u.screenshot("user-new-nl")
	u.do(chromedp.Click(chromedp.CSS("form.stack button.primary")))
	u.waitText("Gebruiker marieke aangemaakt")
	oneTime := strings.TrimSpace(u.text("#one-time-password"))
	if len(oneTime) != 23 {
		t.Fatalf("one-time password %q", oneTime)
	}
	u.screenshot("user-secret-nl")
	u.do(chromedp.Navigate(srv.base + "/ui/users"))
	u.waitText("marieke")
	if got := u.text("table.users"); !strings.Contains(got, "Acme") && !strings.Contains(got, "acme") || !strings.Contains(got, "nieuw wachtwoord nodig") {
		t.Fatalf("the users list:\n%s", got)
	}
	u.screenshot("users-nl")
	u.signOut()

	// The supervisor signs in and chooses a password.
	u.do(chromedp.Navigate(srv.base + "/ui/objections"))
	u.waitText("Inloggen bij verzet")
	u.signIn("marieke", oneTime)
	u.waitText("Kies eerst uw eigen wachtwoord")
	supPassword := "letters arrive every tuesday"
	u.do(chromedp.SendKeys(chromedp.CSS("#current"), oneTime),
		chromedp.SendKeys(chromedp.CSS("#new"), supPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), supPassword),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	u.waitText("Bezwaar vastleggen")

	// An objection that came by letter: it takes effect at once.
	u.do(chromedp.Click(chromedp.CSS("#record-link")))
	u.waitText("gaat niet met terugwerkende kracht in")
	u.do(chromedp.SendKeys(chromedp.CSS("#number"), "06 4444 9876"),
		chromedp.SendKeys(chromedp.CSS("#reference"), "BR-2026-0113"),
		chromedp.SendKeys(chromedp.CSS("#note"), "Brief van mevrouw De Vries: wil niet meer gebeld worden."))
	if got, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#org"))); err != nil || got != "acme" {
		t.Fatalf("the org chosen for a user of Acme = %q (%v)", got, err)
	}
	u.screenshot("record-nl")
	u.do(chromedp.Click(chromedp.CSS("form.stack button.primary")))
	u.waitText("Bezwaar vastgelegd. Het geldt vanaf")
	if got := u.text("#callable-now"); !strings.Contains(got, "Mag nu niet gebeld worden") || !strings.Contains(got, "bezwaar") {
		t.Fatalf("what a dialer is told: %q", got)
	}
	for _, want := range []string{"+31644449876", "brief", "marieke", "kenmerk BR-2026-0113", "Brief van mevrouw De Vries"} {
		if !strings.Contains(u.text("main"), want) {
			t.Fatalf("the recorded objection lacks %q:\n%s", want, u.text("main"))
		}
	}
	u.screenshot("recorded-nl")

	// The calls view: the declined calls, and one of them.
	u.do(chromedp.Click(chromedp.CSS("nav a[href='/ui/calls']")))
	u.waitText("Elk gesprek waarin het recht van bezwaar is aangeboden")
	u.screenshotViewport("calls-nl")
	u.do(chromedp.Navigate(srv.base + "/ui/calls?outcome=declined"))
	u.waitText("afgeslagen")
	if n := u.count("table.calls tbody tr"); n == 0 || strings.Contains(u.text("table.calls tbody"), "bezwaar gemaakt") {
		t.Fatalf("the declined calls: %d rows:\n%s", n, u.text("table.calls tbody"))
	}
	u.do(chromedp.Click(chromedp.CSS("table.calls tbody tr:first-child td:last-child a")))
	u.waitText("Wat er in het gesprek gebeurde")
	if got := u.text("main"); !strings.Contains(got, "Toets 2 ingedrukt") || !strings.Contains(got, "afgeslagen") ||
		!strings.Contains(got, "Druk op 1") {
		t.Fatalf("a declined call:\n%s", got)
	}
	u.screenshot("call-nl")

	// The evidence pack of the number of the complaint, in Dutch, printed.
	u.do(chromedp.Navigate(srv.base + "/ui/evidence"))
	u.waitText("Taal van het dossier")
	u.do(chromedp.SendKeys(chromedp.CSS("#number"), "06 1234 5678"), chromedp.Click(chromedp.CSS("form.filters button.primary")))
	u.waitText("Mag dit nummer nu gebeld worden?")
	pack := u.text("#pack")
	for _, want := range []string{"06 1234 5678", "Acme Goede Doelen", "Mag nu niet gebeld worden", "Belaanbod", "Druk op 1",
		"1 om ", "Tegengehouden belpogingen (3)", "dialer-voorjaar", "2,04 s na ontvangst", "Intact"} {
		if !strings.Contains(pack, want) {
			t.Fatalf("the evidence pack lacks %q:\n%s", want, pack)
		}
	}
	u.screenshot("evidence-nl")
	// On paper the navigation and the form go.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("header.top")).display === "none" &&
		getComputedStyle(document.querySelector("form.filters")).display === "none"`))
	if err != nil || !hidden {
		t.Fatalf("the print stylesheet keeps the navigation or the form (%v)", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize()))
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("print the pack: %v", err)
	}
	for _, m := range pdfMediaBoxRE.FindAllSubmatch(pdf, -1) {
		w, _ := strconv.ParseFloat(string(m[3]), 64)
		h, _ := strconv.ParseFloat(string(m[4]), 64)
		if w < 593 || w > 597 || h < 840 || h > 844 {
			t.Fatalf("a page of the printed pack is %.0f × %.0f pt, not A4", w, h)
		}
	}
	if err := os.WriteFile(filepath.Join(u.shot, "evidence-nl.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}

	// A Dutch CSV for Excel: a byte order mark, semicolons, Dutch headers.
	u.do(chromedp.Navigate(srv.base + "/ui/objections?q=06+4444+9876"))
	u.waitText("Gezocht op 06 4444 9876")
	file := u.download("#export-primary", downloads, "verzet-objections-*.csv")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "\uFEFF") {
		t.Fatal("the Dutch export has no byte order mark")
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "Ontvangen (Europe/Amsterdam)" || rows[0][1] != "Nummer" ||
		rows[1][1] != "06 4444 9876" || rows[1][2] != "+31644449876" || rows[1][8] != "brief" || rows[1][9] != "actief" ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]:00$`).MatchString(rows[1][0]) {
		t.Fatalf("the Dutch export = %q, %v", rows, err)
	}

	// The number by its last four digits.
	u.do(chromedp.Navigate(srv.base + "/ui/objections"))
	u.waitText("Bezwaar vastleggen")
	u.do(chromedp.SendKeys(chromedp.CSS("#q"), "9876"), chromedp.Submit(chromedp.CSS("#q")))
	u.waitText("(eindigt op 9876)")
	if got := u.text("table.list tbody"); !strings.Contains(got, "06 4444 9876") {
		t.Fatalf("the search by the last digits:\n%s", got)
	}
	u.screenshot("search-nl")
	// A part found in several numbers offers them.
	u.do(chromedp.Navigate(srv.base + "/ui/objections?q=020+555"))
	u.waitText("Nummers die beginnen met 020 555")
	u.screenshot("search-candidates-nl")
	u.signOut()

	// The admin disables the supervisor; it cannot sign in.
	u.do(chromedp.Navigate(srv.base + "/ui/users"))
	u.signIn("admin", adminPassword)
	u.waitText("Nieuwe gebruiker")
	// Users by name: admin, marieke.
	u.do(chromedp.Click(chromedp.CSS("table.users tbody tr:last-child td:first-child a")))
	u.waitText("Gebruiker uitschakelen")
	if !strings.Contains(u.text("h1"), "marieke") {
		t.Fatalf("the user page is %q", u.text("h1"))
	}
	u.screenshot("user-nl")
	u.do(chromedp.Click(chromedp.CSS("#disable")))
	u.waitText("De gebruiker is uitgeschakeld en uitgelogd.")
	u.do(chromedp.Navigate(srv.base + "/ui/audit"))
	u.waitText("gebruiker uitgeschakeld")
	audit := u.text("table.list")
	for _, want := range []string{"gebruiker aangemaakt", "bezwaar vastgelegd", "ingezien", "bewijsdossier", "geëxporteerd",
		"rol: supervisor, organisaties: acme", "bron: brief, kenmerk: BR-2026-0113"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("the audit log lacks %q:\n%s", want, audit)
		}
	}
	u.screenshot("audit-nl")
	u.signOut()
	u.do(chromedp.Navigate(srv.base + "/ui/objections"))
	u.waitText("Inloggen bij verzet")
	u.signIn("marieke", supPassword)
	u.waitText("Inloggen mislukt")
	if loc := u.location(); !strings.HasPrefix(loc, "/ui/signin") {
		t.Fatalf("a disabled user got to %s", loc)
	}

	// The dashboard links into the calls.
	u.do(chromedp.Navigate(srv.base + "/ui/signin"))
	u.signIn("admin", adminPassword)
	u.waitText("Bezwaar vastleggen")
	u.do(chromedp.Navigate(srv.base + "/ui/dashboard"))
	u.waitText("Belaanbod en bezwaren per dag")
	u.screenshot("dashboard-nl")
	u.do(chromedp.Click(chromedp.CSS("#dash-calls")))
	u.waitText("Elk gesprek waarin het recht van bezwaar is aangeboden")
}
