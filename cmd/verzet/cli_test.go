package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections/postgres/pgtest"
)

// inProcess runs the command line in this process, as the binary does,
// with only the environment given (no VERZET_* of the test's own).
func inProcess(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, EnvFromList(env), strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

// emptyFolder makes a new empty folder the current one, as a newcomer's.
func emptyFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("%s holds %v (%v); want nothing created", dir, entries, err)
	}
}

// The done-when: in an empty folder, the commands that read or
// change the register refuse, naming where they looked and the variable
// that sets it, and create nothing, not even the data folder.
func TestNoStoreIsCreatedSilently(t *testing.T) {
	dir := emptyFolder(t)
	want := filepath.Join(dir, "data", "verzet.db")
	for _, args := range [][]string{
		{"objections", "record", "0612121212", "--org", "acme", "--source", "agent"},
		{"objections", "list"},
		{"objections", "export"},
		{"objections", "show", "01JQ3W9T6N8X4K2M5P7R9S1V3W"},
		{"check", "0612121212", "--org", "acme"},
		{"offers", "list"},
		{"orgs", "list"},
		{"orgs", "set", "acme", "--name", "Acme", "--sector", "charity"},
		{"verify"},
		{"tokens", "create", "--role", "dialer", "--name", "d"},
		{"tokens", "list"},
		{"tokens", "revoke", "d"},
		{"users", "create", "sam"},
		{"users", "list"},
		{"users", "password", "sam"},
	} {
		t.Run(strings.Join(args[:min(2, len(args))], " "), func(t *testing.T) {
			out, errOut, code := inProcess(t, nil, "a long enough password\n", args...)
			if code != exitFailure {
				t.Fatalf("exit %d, want 2\n%s%s", code, out, errOut)
			}
			for _, s := range []string{want, "VERZET_DATA_DIR", "VERZET_DATABASE_URL", "verzet init"} {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr %q does not name %s", errOut, s)
				}
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", errOut)
			}
			assertEmpty(t, dir)
		})
	}
	// init creates it; then the command that was refused writes there and
	// says so.
	out, errOut, code := inProcess(t, nil, "", "init")
	if code != 0 || !strings.Contains(out, "created a new store in "+want) {
		t.Fatalf("init: %d %q %q", code, out, errOut)
	}
	if out, _, code = inProcess(t, nil, "", "init"); code != 0 || !strings.Contains(out, "exists already") {
		t.Fatalf("init again: %d %q", code, out)
	}
	if _, errOut, code = inProcess(t, nil, "", "orgs", "set", "acme", "--name", "Acme", "--sector", "charity"); code != 0 {
		t.Fatal(errOut)
	}
	out, _, code = inProcess(t, nil, "", "objections", "record", "0612121212", "--org", "acme", "--source", "agent")
	if code != 0 || !strings.Contains(out, "recorded objection ") || !strings.Contains(out, " in "+want+" (VERZET_DATA_DIR not set: the default)") {
		t.Fatalf("record: %d %q", code, out)
	}
	other := t.TempDir()
	out, _, code = inProcess(t, []string{"VERZET_DATA_DIR=" + dir + "/data"}, "", "check", "0612121212", "--org", "acme", "--data-dir", other)
	if code != exitFailure {
		t.Fatalf("check with --data-dir elsewhere: %d %q", code, out)
	}
	assertEmpty(t, other)
	out, _, code = inProcess(t, []string{"VERZET_DATA_DIR=" + dir + "/data"}, "", "check", "0612121212", "--org", "acme")
	if code != exitNo || !strings.Contains(out, "reasons=objection") {
		t.Fatalf("check: %d %q", code, out)
	}
}

// PostgreSQL that is not migrated, unreachable or misspelt is refused with
// the URL (password masked) and the variable named.
func TestNoPostgresStoreIsAssumed(t *testing.T) {
	emptyFolder(t)
	dsn := pgtest.DSN(t) // an empty database: no verzet store in it
	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{"not migrated", dsn, []string{"VERZET_DATABASE_URL", "not migrated", "verzet migrate"}},
		{"unreachable", "postgres://verzet:hunter2@127.0.0.1:1/verzet?connect_timeout=5", []string{"VERZET_DATABASE_URL", "postgres://verzet:xxxxx@127.0.0.1:1/verzet", "cannot be reached"}},
		{"malformed", "postgres//verzet:hunter2@db/verzet", []string{"VERZET_DATABASE_URL", "postgres://user:pass@host:5432/db", "key=value"}},
		{"malformed key=value", "host=db password=hunter2 dbname", []string{"VERZET_DATABASE_URL", "password=xxxxx", "postgres://user:pass@host:5432/db"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := inProcess(t, []string{"VERZET_DATABASE_URL=" + tc.url}, "", "objections", "list")
			if code != exitFailure {
				t.Fatalf("exit %d, want 2: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("stderr holds the password: %q", errOut)
			}
		})
	}
	out, errOut, code := inProcess(t, []string{"VERZET_DATABASE_URL=" + dsn}, "", "init")
	if code != 0 || !strings.Contains(out, "created a new store in ") || !strings.Contains(out, "(VERZET_DATABASE_URL)") {
		t.Fatalf("init: %d %q %q", code, out, errOut)
	}
	if out, errOut, code = inProcess(t, []string{"VERZET_DATABASE_URL=" + dsn}, "", "objections", "list", "--json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("list after init: %d %q %q", code, out, errOut)
	}
}

func TestMaskDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://verzet:hunter2@db:5432/verzet":          "postgres://verzet:xxxxx@db:5432/verzet",
		"postgres://db/verzet?user=v&password=hunter2":      "postgres://db/verzet?password=xxxxx&user=v",
		"postgres://verzet:hun%ter2@db/verzet":              "postgres://verzet:xxxxx@db/verzet",
		"postgres//verzet:hunter2@db/verzet":                "postgres//verzet:xxxxx@db/verzet",
		"host=db user=verzet password=hunter2 dbname=v":     "host=db user=verzet password=xxxxx dbname=v",
		"host=db password='hun ter2' dbname=v":              "host=db password=xxxxx dbname=v",
		"postgresql://verzet@db/verzet?sslmode=verify-full": "postgresql://verzet@db/verzet?sslmode=verify-full",
	} {
		if got := maskDSN(in); got != want {
			t.Errorf("maskDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// The done-when: an org typed wrong is an error naming the
// closest known ones, and nothing is recorded or created.
func TestUnknownOrgIsAnError(t *testing.T) {
	dir := emptyFolder(t)
	env := []string{"VERZET_DATA_DIR=" + dir}
	for _, args := range [][]string{{"init"}, {"orgs", "set", "acme", "--name", "Acme", "--sector", "charity"}, {"orgs", "set", "zonneveld", "--name", "Z", "--sector", "other"}} {
		if _, errOut, code := inProcess(t, env, "", args...); code != 0 {
			t.Fatal(errOut)
		}
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"record", nil, []string{"objections", "record", "0612121212", "--org", "acmee", "--source", "agent"}, `org "acmee": is not known (did you mean acme?)`},
		{"check", nil, []string{"check", "0612121212", "--org", "acme-"}, `org "acme-": is not known (did you mean acme?)`},
		{"list", nil, []string{"objections", "list", "--org", "zonnevelt"}, "did you mean zonneveld?"},
		{"offers", nil, []string{"offers", "list", "--org", "Acm"}, "did you mean acme?"},
		{"default org", []string{"VERZET_DEFAULT_ORG=acne"}, []string{"objections", "record", "0612121212"}, `VERZET_DEFAULT_ORG "acne": is not known (did you mean acme?)`},
		{"far from all", nil, []string{"check", "0612121212", "--org", "xyzzy"}, "the orgs are acme, zonneveld"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := inProcess(t, append(append([]string{}, env...), tc.env...), "", tc.args...)
			if code != exitFailure || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "verzet orgs set") {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	out, _, code := inProcess(t, env, "", "orgs", "list")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("orgs after typos: %d %q", code, out)
	}
	out, _, code = inProcess(t, env, "", "objections", "list", "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("objections after typos: %d %q", code, out)
	}
}

func TestVersionHelpAndCompletion(t *testing.T) {
	emptyFolder(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"version"}, []string{"verzet ", "commit", "go1."}},
		{[]string{"--version"}, []string{"verzet ", "go1."}},
		{[]string{"objections", "--help"}, []string{"list", "record", "export", "show"}},
		{[]string{"help", "objections"}, []string{"list", "record"}},
		{[]string{"help"}, []string{"The register:", "check", "serve", "help environment"}},
		{[]string{}, []string{"The register:"}},
		{[]string{"help", "environment"}, []string{"VERZET_DATA_DIR", "VERZET_DATABASE_URL", "VERZET_DEFAULT_ORG"}},
		{[]string{"help", "settings"}, []string{"VERZET_TWILIO_AUTH_TOKEN", "VERZET_UI_BCRYPT_COST", "--ari-media-url"}},
		{[]string{"completion", "bash"}, []string{"bash completion"}},
		{[]string{"completion", "zsh"}, []string{"compdef"}},
		{[]string{"completion", "fish"}, []string{"complete -c verzet"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := inProcess(t, nil, "", tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// Wrong commands, subcommands, flags and help topics: exit 2, a short
// message naming the nearest, never the whole flag list.
func TestMistakesGetAShortAnswer(t *testing.T) {
	emptyFolder(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"chek", "0612345678"}, []string{`unknown command "chek" (did you mean check?)`, "Run 'verzet --help'"}},
		{[]string{"objections", "lst"}, []string{`subcommand "lst"`, "did you mean list?"}},
		{[]string{"objections"}, []string{`subcommand ""`, "list, export, show, record"}},
		{[]string{"objections", "list", "--ogr", "acme"}, []string{"unknown flag --ogr (did you mean --org?)", "Run 'verzet objections list --help'"}},
		{[]string{"check", "0612345678", "-org", "acme"}, []string{"unknown flag -org (did you mean --org?)"}},
		{[]string{"objections", "list", "--http-addr", ":9090"}, []string{"unknown flag --http-addr"}},
		{[]string{"check", "0612345678", "--org"}, []string{"flag needs an argument: --org"}},
		{[]string{"help", "enviroment"}, []string{`topic "enviroment"`, "did you mean environment?"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := inProcess(t, nil, "", tc.args...)
			if code != exitFailure || out != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %q", w, errOut)
				}
			}
			if n := strings.Count(errOut, "\n"); n > 2 {
				t.Errorf("stderr has %d lines:\n%s", n, errOut)
			}
		})
	}
}

var flagLine = regexp.MustCompile(`(?m)^\s+(-\w, )?--[a-z-]+`)

// The done-when: a command's help shows its own flags and the
// store's; the server's settings are on serve alone.
func TestCommandsShowOnlyTheirFlags(t *testing.T) {
	serverOnly := []string{"--http-addr", "--api-rate", "--webhook-secret", "--ari-url", "--log-format", "--twilio-tts", "--no-migrate"}
	root := (&App{env: Env{}}).root()
	var leaves [][]string
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.Name() == "completion" {
			continue
		}
		if !c.HasSubCommands() {
			leaves = append(leaves, []string{c.Name()})
		}
		for _, s := range c.Commands() {
			leaves = append(leaves, []string{c.Name(), s.Name()})
		}
	}
	if len(leaves) < 20 {
		t.Fatalf("only %d commands found: %v", len(leaves), leaves)
	}
	for _, path := range leaves {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			out, errOut, code := inProcess(t, nil, "", append(path, "--help")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			n := len(flagLine.FindAllString(out, -1))
			switch name {
			case "serve":
				if n < len(allSettings()) {
					t.Errorf("serve --help shows %d flags, fewer than the %d settings", n, len(allSettings()))
				}
				return
			case "objections list":
				if n > 15 {
					t.Errorf("objections list --help shows %d flags, want at most 15:\n%s", n, out)
				}
			}
			flags := strings.Join(flagLine.FindAllString(out, -1), "\n")
			for _, f := range serverOnly {
				if strings.Contains(flags, f) {
					t.Errorf("%s --help shows the server flag %s", name, f)
				}
			}
			if n > 22 {
				t.Errorf("%s --help shows %d flags", name, n)
			}
			for _, s := range []string{"Usage:", "Examples:", "verzet " + name} {
				if !strings.Contains(out, s) {
					t.Errorf("%s --help lacks %q", name, s)
				}
			}
			if strings.Contains(out, "domain.md") || strings.Contains(out, "STYLE.md") {
				t.Errorf("%s --help cites a file outside the repository", name)
			}
		})
	}
}

// Every command has a one-line Short, a Long and an Example.
func TestCommandsAreDocumented(t *testing.T) {
	root := (&App{env: Env{}}).root()
	for _, c := range root.Commands() {
		for _, s := range append(c.Commands(), c) {
			if !s.IsAvailableCommand() || s.Name() == "completion" || s.Parent().Name() == "completion" {
				continue
			}
			if s.Short == "" || strings.Contains(s.Short, "\n") || s.Long == "" {
				t.Errorf("%s: Short %q, Long %d bytes", s.CommandPath(), s.Short, len(s.Long))
			}
			if s.Runnable() && !s.HasSubCommands() && s.Example == "" {
				t.Errorf("%s has no Example", s.CommandPath())
			}
		}
	}
}

// The done-when: the README's settings table is the one the
// definitions generate. Run `go generate ./cmd/verzet` after changing a
// setting.
func TestREADMESettingsMatchTheCode(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, _, err := readmeSettings(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(table) != strings.TrimSpace(settingsMarkdown()) {
		t.Fatalf("README.md's settings table differs from cmd/verzet/sections.go: run `go generate ./cmd/verzet`.\nREADME:\n%s\ncode:\n%s", table, settingsMarkdown())
	}
	for _, s := range allSettings() {
		if !strings.Contains(table, "`"+s.env+"`") {
			t.Errorf("README lacks %s", s.env)
		}
	}
}

// Every variable `verzet help environment` names is a real setting.
func TestEnvironmentTopicNamesRealSettings(t *testing.T) {
	known := map[string]bool{}
	for _, s := range allSettings() {
		known[s.env] = true
	}
	for _, v := range regexp.MustCompile(`VERZET_[A-Z_]+`).FindAllString(environmentTopic().Long, -1) {
		if !known[v] {
			t.Errorf("help environment names %s, which is no setting", v)
		}
	}
}

// Settings are checked when loaded, and the message says what to do.
func TestSettingsSayWhatIsWrong(t *testing.T) {
	emptyFolder(t)
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"short webhook secret", []string{"VERZET_WEBHOOK_URLS=https://hooks.example/x", "VERZET_WEBHOOK_SECRET=short"}, `VERZET_WEBHOOK_SECRET "": is too short (5 characters; at least 16)`},
		{"no webhook secret", []string{"VERZET_WEBHOOK_URLS=https://hooks.example/x"}, "VERZET_WEBHOOK_SECRET \"\": is required with VERZET_WEBHOOK_URLS"},
		{"bcrypt cost", []string{"VERZET_UI_BCRYPT_COST=3"}, `VERZET_UI_BCRYPT_COST "3": must be a number from 4 to 31`},
		{"ari without password", []string{"VERZET_ARI_URL=http://pbx:8088/ari", "VERZET_ARI_USER=verzet"}, "VERZET_ARI_PASSWORD are both required"},
		{"log format", []string{"VERZET_LOG_FORMAT=xml"}, `VERZET_LOG_FORMAT "xml": must be auto, json or console`},
		{"database url", []string{"VERZET_DATABASE_URL=mysql:verzet"}, "expected postgres://user:pass@host:5432/db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := inProcess(t, append(tc.env, "VERZET_HTTP_ADDR=127.0.0.1:0"), "", "serve")
			if code != exitFailure || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	// A bad setting serve reads is no business of a command that does not.
	if _, errOut, code := inProcess(t, []string{"VERZET_WEBHOOK_SECRET=short", "VERZET_WEBHOOK_URLS=https://hooks.example/x"}, "", "prompts", "list"); code != 0 {
		t.Fatalf("prompts list with a bad webhook setting: %d %s", code, errOut)
	}
}

// GET / leads to the web UI, or names the API when there is none.
func TestRootPage(t *testing.T) {
	for _, ui := range []bool{true, false} {
		rec := httptest.NewRecorder()
		(&Server{UI: ui}).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		switch {
		case ui && (rec.Code != http.StatusFound || rec.Header().Get("Location") != "/ui/"):
			t.Errorf("with the UI: %d %q", rec.Code, rec.Header().Get("Location"))
		case !ui && (rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "/v1/")):
			t.Errorf("without the UI: %d %q", rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	(&Server{UI: true}).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/nothing-here", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /nothing-here = %d", rec.Code)
	}
}

// A second server on one data dir is refused, naming the first one's pid.
func TestSecondServerNamesTheFirst(t *testing.T) {
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_HTTP_ADDR=127.0.0.1:0"}
	first := startServeProc(t, env)
	_, errOut, code := run(t, env, "serve")
	want := "is in use by another verzet serve (process " + strconv.Itoa(first.cmd.Process.Pid) + ")"
	if code != exitFailure || !strings.Contains(errOut, want) || !strings.Contains(errOut, "VERZET_DATA_DIR") {
		t.Fatalf("second serve: exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}
