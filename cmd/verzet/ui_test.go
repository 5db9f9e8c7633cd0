package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/prompts"
)

// uiServer is `verzet serve` on the embedded store, started as its own
// process, with the first admin's one-time password read from its console.
type uiServer struct {
	base      string
	dataDir   string
	bootstrap string
}

func startUIServer(t *testing.T) *uiServer {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve")
	// The race detector makes bcrypt some forty times slower: cost 4 here.
	cmd.Env = append(os.Environ(), "VERZET_DATA_DIR="+dir, "VERZET_DATABASE_URL=", "VERZET_HTTP_ADDR=127.0.0.1:0",
		"VERZET_LOG_FORMAT=json", "VERZET_UI_BCRYPT_COST=4")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	type found struct{ addr, password string }
	lines := make(chan found, 4)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			text := sc.Text()
			switch {
			case json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening":
				lines <- found{addr: line.Addr}
			case strings.Contains(text, "│  Password"):
				f := strings.Fields(text)
				lines <- found{password: f[len(f)-1]}
			}
		}
	}()
	s := &uiServer{dataDir: dir}
	deadline := time.After(60 * time.Second)
	for s.base == "" || s.bootstrap == "" {
		select {
		case f := <-lines:
			if f.addr != "" {
				s.base = "http://" + f.addr
			}
			if f.password != "" {
				s.bootstrap = f.password
			}
		case <-deadline:
			t.Fatalf("serve did not start, or printed no first sign-in (addr %q)", s.base)
		}
	}
	return s
}

// seed records what a fortnight of calls leaves behind: offers per
// campaign and day, the objections some of them produced, a few objections
// from other channels, and the one the test looks for: 06 1234 5678.
func seed(t *testing.T, dataDir string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := prompts.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := now
	reg := objections.NewRegister(st, objections.Numbers{Region: "NL"}, func() time.Time { return clock })
	for _, o := range []objections.Org{
		{ID: "acme", Name: "Acme Goede Doelen", Sector: objections.SectorCharity},
		{ID: "zonneveld", Name: "Zonneveld Energie", Sector: objections.SectorOther},
	} {
		if _, err := reg.SetOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// call records one call as the IVR does: on key 1 the objection first
	// (committed before the confirmation plays), then the offer when the
	// call ends, linked by the provider's call reference.
	call := func(org, campaign, number, provider string, at time.Time, objected bool, extra objections.Objection) (rec objections.Objection) {
		pb, err := cat.Compose("nl", prompts.Offer, prompts.Vars{OrgID: org, KeyObject: "1", KeyDecline: "2"})
		if err != nil {
			t.Fatal(err)
		}
		played := time.Duration(pb.DurationMS) * time.Millisecond
		o := objections.Offer{Org: org, Number: number, Provider: provider, CallRef: fmt.Sprintf("CA%x", at.UnixNano()),
			CampaignRef: campaign, PromptID: string(prompts.Offer), PromptVersion: pb.Version, Language: "nl", PromptHash: pb.Hash,
			PlayedMS: pb.DurationMS, Outcome: objections.OutcomeDeclined, EndedBy: objections.EndedByCaller, StartedAt: at,
			EndedAt: at.Add(played + 4*time.Second), Keys: []objections.Key{{Digit: "2", At: at.Add(played + 900*time.Millisecond), Mode: "rfc4733"}}}
		if objected {
			o.Outcome, o.Keys[0].Digit = objections.OutcomeObjected, "1"
			source := objections.SourceIVRTwilio
			if provider == "ari" {
				source = objections.SourceIVRARI
			}
			extra.Org, extra.RawNumber, extra.Source, extra.Provider, extra.CallRef, extra.CampaignRef = org, number, source, provider, o.CallRef, campaign
			clock = o.Keys[0].At.Add(38 * time.Millisecond)
			if rec, _, err = reg.Record(ctx, extra); err != nil {
				t.Fatal(err)
			}
			o.ObjectionID = rec.ID
		}
		if _, _, err := reg.RecordOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	object := func(o objections.Objection, at time.Time) {
		clock = at
		if _, _, err := reg.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	campaigns := []struct {
		org, name, provider string
		calls               int
		rate                float64
	}{
		{"acme", "donateurs-maart", "twilio", 38, 0.06},
		{"acme", "voorjaar-2026", "ari", 26, 0.11},
		{"zonneveld", "winback-q1", "twilio", 30, 0.17},
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, objections.Amsterdam())
	n := 0
	for d := 27; d >= 0; d-- {
		day := today.AddDate(0, 0, -d)
		if day.Weekday() == time.Sunday {
			continue
		}
		for _, c := range campaigns {
			calls := c.calls/4 + rng.IntN(c.calls/2)
			for i := range calls {
				at := day.Add(9*time.Hour + time.Duration(i*480/calls)*time.Minute + time.Duration(rng.IntN(50))*time.Second)
				if at.After(now) {
					break
				}
				n++
				number := fmt.Sprintf("+3161%07d", 1000000+n)
				call(c.org, c.name, number, c.provider, at, rng.Float64() < c.rate, objections.Objection{})
			}
		}
		if d%3 == 0 {
			object(objections.Objection{Org: "acme", RawNumber: fmt.Sprintf("020 555 %04d", 100+d), Source: objections.SourceEmail,
				Actor: "klantenservice", Note: "Per e-mail: wil niet meer gebeld worden."}, day.Add(11*time.Hour))
		}
		if d%4 == 1 {
			object(objections.Objection{Org: "zonneveld", RawNumber: fmt.Sprintf("06 2000 %04d", 300+d), Source: objections.SourceAgent,
				CampaignRef: "winback-q1", AgentRef: "agent-17", Note: "Klant gaf bezwaar door aan de medewerker."}, day.Add(14*time.Hour))
		}
	}
	// The complaint the supervisor looks up: "I pressed 1 and was called
	// again". The dialer did try again, three times, and was stopped each
	// time: the log of dial-time checks shows it.
	o := call("acme", "voorjaar-2026", "06 1234 5678", "twilio", now.Add(-26*time.Hour), true,
		objections.Objection{DialerCallRef: "dialer-88412", LeadRef: "lead-5521"})
	events, err := st.EventsFor(ctx, o.ID)
	if err != nil || len(events) == 0 {
		t.Fatalf("events of the objection: %v %v", events, err)
	}
	var stops []objections.DecisionRecord
	for _, after := range []time.Duration{2040 * time.Millisecond, 2*time.Hour + 11*time.Minute, 23*time.Hour + 4*time.Minute} {
		at := o.ReceivedAt.Add(after)
		stops = append(stops, objections.DecisionRecord{ID: objections.NewID(at), DecidedAt: at, Org: o.Org, Number: o.Number,
			Basis: objections.BasisNone, Reasons: []objections.Reason{objections.ReasonObjection, objections.ReasonNoBasis},
			ObjectionID: o.ID, ListVersion: events[0].Seq + 1, TokenName: "dialer-voorjaar"})
	}
	if _, err := st.AppendDecisions(ctx, stops, nil); err != nil {
		t.Fatal(err)
	}
}

// chromium returns the path of the Chromium the tests drive. The tests
// never skip (but in make test-fast): CI (.ci/run) installs Debian's
// chromium when it is missing.
func chromium(t *testing.T) string {
	t.Helper()
	if testFast {
		t.Skip("browser test skipped by make test-fast (-tags testfast); make test runs it")
	}
	if p := os.Getenv("VERZET_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: install Debian's chromium (apt-get install chromium) or set VERZET_CHROMIUM; .ci/run installs it")
	return ""
}

// screenshotDir is where the end-to-end tests leave their screenshots: a
// folder the repository ignores.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VERZET_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ui drives one browser tab.
type ui struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot string
}

func (u *ui) do(steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		u.t.Fatalf("browser at %s: %v", u.location(), err)
	}
}

// waitText waits until the page shows text. It reads the page through the
// DOM again and again, so that a navigation still under way (the click
// before it may be loading the next page) only costs a retry.
func (u *ui) waitText(text string) {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var (
		body string
		err  error
	)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(u.ctx, 2*time.Second)
		body, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		cancel()
		if err == nil && strings.Contains(body, text) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	u.t.Fatalf("browser at %s never showed %q (%v):\n%s", u.location(), text, err, body)
}

// count returns how many elements match the CSS selector.
func (u *ui) count(sel string) int {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	ids, err := chromedp.Run(ctx, chromedp.QueryNodeIDs(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		u.t.Fatalf("count %s: %v", sel, err)
	}
	return len(ids)
}

func (u *ui) location() string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(location unknown: " + err.Error() + ")"
	}
	return strings.TrimPrefix(loc, u.base)
}

func (u *ui) text(sel string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (u *ui) screenshot(name string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(u.shot, name+".png"), png, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

// screenshotViewport saves what the window shows, as a person sees it.
func (u *ui) screenshotViewport(name string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(u.shot, name+".png"), png, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.Flag("accept-lang", "en-GB,en"),
		chromedp.Flag("hide-scrollbars", true),
	)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// The browser test: a supervisor's day in a real headless Chromium,
// against the real binary on the embedded store. Sign in with the printed
// first sign-in, search a number typed as 06 1234 5678, open its objection,
// export CSV, void it as admin; the screenshots go to a folder the
// repository ignores.
func TestUIInChromium(t *testing.T) {
	srv := startUIServer(t)
	now := time.Now()
	seed(t, srv.dataDir, now)
	shots := screenshotDir(t)
	ctx := newBrowser(t)
	u := &ui{t: t, ctx: ctx, base: srv.base, shot: shots}
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}

	// Sign in with the one-time password serve printed; choose a new one.
	u.do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.base+"/ui/"))
	u.waitText("Sign in to verzet")
	if loc := u.location(); !strings.HasPrefix(loc, "/ui/signin") {
		t.Fatalf("anonymous /ui/ went to %s", loc)
	}
	u.screenshot("signin")
	u.do(chromedp.SendKeys(chromedp.CSS("#name"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), srv.bootstrap),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	u.waitText("Choose your own password")
	newPassword := "a calm and quiet morning"
	u.do(chromedp.SendKeys(chromedp.CSS("#current"), srv.bootstrap),
		chromedp.SendKeys(chromedp.CSS("#new"), newPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	u.waitText("Export CSV")
	if loc := u.location(); loc != "/ui/objections" {
		t.Fatalf("after the password change: %s", loc)
	}

	// Search the number as the customer says it.
	u.do(chromedp.SendKeys(chromedp.CSS("#q"), "06 1234 5678"), chromedp.Submit(chromedp.CSS("#q")))
	u.waitText("Searching for 06 1234 5678 (+31612345678)")
	if got := u.text("table.list tbody"); !strings.Contains(got, "06 1234 5678") || strings.Count(got, "06 ") != 1 {
		t.Fatalf("search results:\n%s", got)
	}
	u.do(chromedp.Click(chromedp.CSS("table.list tbody tr:first-child td a")))
	u.waitText("Evidence timeline")
	detail := u.text("main")
	for _, want := range []string{"Right to object offered", "Key 1 pressed", "they match what was recorded", "Objection recorded",
		"voorjaar-2026", "twilio", "dialer-88412", "Acme Goede Doelen", "Druk op 1",
		"Dial attempts stopped", "3 dial attempts", "2.04 s after receipt", "dialer-voorjaar"} {
		if !strings.Contains(detail, want) {
			t.Fatalf("the detail page lacks %q:\n%s", want, detail)
		}
	}
	u.screenshot("detail")
	objectionURL := u.location()

	// Export the current filter: the number searched.
	u.do(chromedp.Navigate(srv.base + "/ui/objections?q=06+1234+5678"))
	u.waitText("Searching for")
	u.do(chromedp.Click(chromedp.CSS("#export-primary")))
	var file string
	for deadline := time.Now().Add(20 * time.Second); file == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		matches, _ := filepath.Glob(filepath.Join(downloads, "verzet-objections-*.csv"))
		if len(matches) == 1 {
			file = matches[0]
		}
	}
	if file == "" {
		t.Fatal("the CSV export was not downloaded")
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 2 || rows[0][1] != "Number" || rows[1][2] != "+31612345678" || rows[1][7] != "voorjaar-2026" {
		t.Fatalf("exported rows = %q, %v", rows, err)
	}

	// Void it, as admin, after the confirmation step.
	u.do(chromedp.Navigate(srv.base + objectionURL))
	u.waitText("Void this objection")
	u.do(chromedp.Click(chromedp.CSS("a.danger-outline")))
	u.waitText("may be called again")
	u.do(chromedp.SendKeys(chromedp.CSS("#reason"), "Recorded on the wrong number: the customer confirmed by phone on "+now.Format("2 Jan")+"."))
	u.screenshot("void")
	u.do(chromedp.Click(chromedp.CSS("button.danger")))
	u.waitText("The objection has been voided")
	if got := u.text("h1 .badge"); got != "voided" {
		t.Fatalf("badge after the void = %q", got)
	}
	u.do(chromedp.Navigate(srv.base + "/ui/objections"))
	u.waitText("Export CSV")
	u.screenshotViewport("list")
	u.screenshot("list-full")

	// The dashboard, and the audit log of all of the above.
	u.do(chromedp.Navigate(srv.base + "/ui/dashboard"))
	u.waitText("Offers to object and objections per day")
	if n := u.count("svg rect.bar-offers"); n < 28 {
		t.Fatalf("the day chart has %d offer bars", n)
	}
	u.screenshot("dashboard")
	u.do(chromedp.Navigate(srv.base + "/ui/audit"))
	u.waitText("voided objection")
	audit := u.text("table.list")
	for _, want := range []string{"signed in", "changed password", "viewed", "exported", "voided objection", "first admin"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("the audit log lacks %q:\n%s", want, audit)
		}
	}
	u.screenshot("audit")

	// In Dutch, by the switch; and readable on a tablet.
	u.do(chromedp.Navigate(srv.base + objectionURL))
	u.waitText("Evidence timeline")
	u.do(chromedp.Click(chromedp.CSS("a.lang")))
	u.waitText("Tijdlijn van het bewijs")
	u.screenshot("detail-nl")
	u.do(chromedp.EmulateViewport(820, 1180), chromedp.Navigate(srv.base+"/ui/objections"))
	u.waitText("Bezwaren")
	u.screenshotViewport("list-tablet-nl")
	u.do(chromedp.EmulateViewport(1280, 900))

	// Keyboard only: the skip link comes first, then the navigation.
	u.do(chromedp.Navigate(srv.base + "/ui/objections"))
	u.waitText("Bezwaren")
	u.do(chromedp.KeyEvent("\t"))
	if got := u.text("a:focus"); got != "Naar de inhoud" {
		t.Fatalf("first tab stop = %q", got)
	}

	// A supervisor, made with the CLI, sees the evidence but cannot void.
	create := exec.Command(binary, "users", "create", "--role", "supervisor", "sam")
	create.Env = append(os.Environ(), "VERZET_DATA_DIR="+srv.dataDir, "VERZET_DATABASE_URL=", "VERZET_UI_BCRYPT_COST=4")
	create.Stdin = strings.NewReader("a supervisor's passphrase\n")
	if out, err := create.CombinedOutput(); err != nil || !strings.Contains(string(out), "user sam created with role supervisor") {
		t.Fatalf("users create: %v\n%s", err, out)
	}
	// Sign out; sign in as the supervisor.
	u.do(chromedp.Click(chromedp.CSS("form[action='/ui/signout'] button")))
	u.waitText("U bent uitgelogd.")
	u.do(chromedp.Navigate(srv.base + objectionURL))
	u.waitText("Inloggen bij verzet")
	u.do(chromedp.SendKeys(chromedp.CSS("#name"), "sam"),
		chromedp.SendKeys(chromedp.CSS("#password"), "a supervisor's passphrase"),
		chromedp.Click(chromedp.CSS("form.stack button[type=submit]")))
	u.waitText("Tijdlijn van het bewijs")
	if loc := u.location(); loc != objectionURL {
		t.Fatalf("after sign-in the supervisor is at %s, not back at %s", loc, objectionURL)
	}
	if n := u.count("a[href$='/void'], a[href='/ui/audit']"); n != 0 {
		t.Fatalf("a supervisor sees %d void or audit links", n)
	}
	u.do(chromedp.Navigate(srv.base + objectionURL + "/void"))
	u.waitText("Uw rol mag dit niet.")
}

func TestUsersCommand(t *testing.T) {
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_UI_BCRYPT_COST=4"}
	initStore(t, env)
	users := func(stdin string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"users"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader(stdin)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"no password", "", []string{"create", "sam"}, `password "": is empty`},
		{"short password", "short\n", []string{"create", "sam"}, "at least 12 characters"},
		{"bad role", "a long enough password\n", []string{"create", "--role", "dialer", "sam"}, `role "dialer": must be supervisor or admin`},
		{"bad name", "a long enough password\n", []string{"create", "Sam Smith"}, `name "sam smith"`},
		{"no name", "a long enough password\n", []string{"create"}, "exactly one user name"},
		{"unknown subcommand", "", []string{"delete", "sam"}, `subcommand "delete"`},
		{"password of nobody", "a long enough password\n", []string{"password", "nobody"}, "not found"},
		{"bad cost", "a long enough password\n", []string{"create", "--ui-bcrypt-cost", "40", "sam"}, `VERZET_UI_BCRYPT_COST "40"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := users(tc.stdin, tc.args...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output %q; want 2 and %q", code, out, tc.want)
			}
		})
	}
	if out, code := users("a long enough password\r\n", "create", "--role", "admin", "Ada"); code != 0 || !strings.Contains(out, "user ada created with role admin") {
		t.Fatalf("create: %d %q", code, out)
	}
	if out, code := users("another long password\n", "create", "ada"); code != 2 || !strings.Contains(out, "is taken") {
		t.Fatalf("create twice: %d %q", code, out)
	}
	if out, code := users("a fresh long password\n", "password", "ada"); code != 0 || !strings.Contains(out, "must be changed at the next sign-in") {
		t.Fatalf("password: %d %q", code, out)
	}
	out, code := users("", "list", "--json")
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0]["name"] != "ada" ||
		list[0]["role"] != "admin" || list[0]["must_change_password"] != true || strings.Contains(out, "$2a$") {
		t.Fatalf("list: %d %q", code, out)
	}
	if out, code := users("", "list"); code != 0 || !strings.Contains(out, "must change password") {
		t.Fatalf("list: %d %q", code, out)
	}

	// Disable, enable, and change the role and scope.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"disable", "ada"}, 0, "user ada disabled; its sessions have ended"},
		{[]string{"list"}, 0, "disabled since"},
		{[]string{"enable", "ada"}, 0, "user ada enabled"},
		{[]string{"disable", "nobody"}, 2, "not found"},
		{[]string{"disable"}, 2, "exactly one user name"},
		{[]string{"role", "--role", "supervisor", "ada"}, 0, "user ada now has role supervisor, reaching every org"},
		{[]string{"role", "ada"}, 2, "nothing to change"},
		{[]string{"role", "--role", "dialer", "ada"}, 2, `role "dialer": must be supervisor or admin`},
		{[]string{"role", "--org", "nosuchorg", "ada"}, 2, "nosuchorg"},
		{[]string{"role", "--org", "acme", "--all-orgs", "ada"}, 2, "cannot go with --all-orgs"},
		{[]string{"role", "--role", "admin", "--all-orgs", "ada"}, 0, "user ada now has role admin, reaching every org"},
	} {
		out, code := users("", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("users %s: exit %d, output %q; want %d and %q", strings.Join(tc.args, " "), code, out, tc.code, tc.want)
		}
	}
	out, code = users("", "list", "--json")
	list = nil
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0]["role"] != "admin" ||
		list[0]["disabled_at"] != "0001-01-01T00:00:00Z" {
		t.Fatalf("list after the changes: %d %q", code, out)
	}
}
