package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres/pgtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "verzet-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "verzet")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build verzet: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the real binary as its own process.
func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// initStore creates the store env names (verzet init), as an operator
// does before the first command; only serve, migrate and init create one.
func initStore(t *testing.T, env []string) {
	t.Helper()
	if out, errOut, code := run(t, env, "init"); code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errOut)
	}
}

// setOrg sets up the org id: the command line refuses orgs the store does
// not know.
func setOrg(t *testing.T, env []string, id string) {
	t.Helper()
	if out, errOut, code := run(t, env, "orgs", "set", id, "--name", id, "--sector", "charity"); code != 0 {
		t.Fatalf("orgs set %s: %d %s %s", id, code, out, errOut)
	}
}

type backend struct {
	name string
	env  func(t *testing.T) []string
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T) []string { return []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL="} }},
		{"postgres", func(t *testing.T) []string {
			return []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=" + pgtest.DSN(t)}
		}},
	}
}

// The done-when: record in one process, check in another, at once.
func TestRecordThenCheckFromTwoProcesses(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			initStore(t, env)
			out, errOut, code := run(t, env, "orgs", "set", "acme", "--name", "Acme Goede Doelen", "--sector", "charity")
			if code != 0 || !strings.Contains(out, "org acme set") {
				t.Fatalf("orgs set: %d %q %q", code, out, errOut)
			}
			setOrg(t, env, "beta")
			out, _, code = run(t, env, "check", "06 1234 5678", "--org", "acme")
			if code != 1 || !strings.Contains(out, "NOT CALLABLE") || !strings.Contains(out, "no_basis") {
				t.Fatalf("check before: %d %q", code, out)
			}
			out, errOut, code = run(t, env, "objections", "record", "06 1234 5678", "--org", "acme", "--source", "agent", "--campaign", "spring")
			if code != 0 || !strings.Contains(out, "recorded objection") || !strings.Contains(out, "+31612345678") {
				t.Fatalf("record: %d %q %q", code, out, errOut)
			}
			for _, format := range []string{"+31612345678", "0031612345678", "+31 6 12345678"} {
				out, _, code = run(t, env, "check", format, "--org", "acme")
				if code != 1 || !strings.Contains(out, "NOT CALLABLE") || !strings.Contains(out, "reasons=objection") {
					t.Fatalf("check %s after: %d %q", format, code, out)
				}
			}
			// Another org is unaffected; a repeat record is idempotent.
			if _, _, code = run(t, env, "check", "0612345678", "--org", "beta"); code != 1 {
				t.Fatalf("beta: %d", code)
			}
			out, _, code = run(t, env, "objections", "record", "+31612345678", "--org", "acme", "--source", "email")
			if code != 0 || !strings.Contains(out, "already recorded") {
				t.Fatalf("repeat: %d %q", code, out)
			}
			out, _, code = run(t, env, "objections", "list", "--org", "acme", "--json")
			var items []map[string]any
			if code != 0 || json.Unmarshal([]byte(out), &items) != nil || len(items) != 1 {
				t.Fatalf("list json: %d %q", code, out)
			}
			for _, k := range []string{"id", "org", "number", "source", "call_ref", "campaign_ref", "received_at", "status"} {
				if _, ok := items[0][k]; !ok {
					t.Errorf("list --json lacks %q: %v", k, items[0])
				}
			}
			if items[0]["number"] != "+31612345678" || items[0]["campaign_ref"] != "spring" || items[0]["status"] != "active" {
				t.Fatalf("item = %v", items[0])
			}
			out, _, code = run(t, env, "objections", "show", items[0]["id"].(string))
			if code != 0 || !strings.Contains(out, `"raw_number": "06 1234 5678"`) {
				t.Fatalf("show: %d %q", code, out)
			}
			out, _, code = run(t, env, "objections", "export")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "id,org,number") || !strings.Contains(lines[1], "+31612345678") {
				t.Fatalf("export: %d %q", code, out)
			}
			out, _, code = run(t, env, "verify")
			if code != 0 || !strings.Contains(out, "chain intact: 1 events") {
				t.Fatalf("verify: %d %q", code, out)
			}
			out, _, code = run(t, env, "offers", "list", "--json")
			if code != 0 || strings.TrimSpace(out) != "[]" {
				t.Fatalf("offers: %d %q", code, out)
			}
			out, _, code = run(t, env, "orgs", "list")
			if code != 0 || !strings.Contains(out, "Acme Goede Doelen") {
				t.Fatalf("orgs list: %d %q", code, out)
			}
		})
	}
}

func TestBadInputExitsTwoAndNamesTheValue(t *testing.T) {
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL="}
	initStore(t, env)
	setOrg(t, env, "acme")
	long := strings.Repeat("x", 129)
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bad number", nil, []string{"check", "06-12", "--org", "acme"}, `number "06-12"`},
		{"empty number", nil, []string{"check", "", "--org", "acme"}, `number ""`},
		{"no org", nil, []string{"check", "0612345678"}, "org"},
		{"bad org id", nil, []string{"check", "0612345678", "--org", "Acme Inc"}, `org "acme inc"`},
		{"record bad source", nil, []string{"objections", "record", "0612345678", "--org", "acme", "--source", "pigeon"}, `source "pigeon"`},
		{"record bad number", nil, []string{"objections", "record", "abc", "--org", "acme"}, `number "abc"`},
		{"org name too long", nil, []string{"orgs", "set", "acme", "--name", long}, "name"},
		{"org empty name", nil, []string{"orgs", "set", "acme", "--name", " "}, `name ""`},
		{"org bad sector", nil, []string{"orgs", "set", "acme", "--name", "A", "--sector", "bank"}, `sector "bank"`},
		{"org bad term", nil, []string{"orgs", "set", "acme", "--name", "A", "--term", "forever"}, `term "forever"`},
		{"org long term needs justification", nil, []string{"orgs", "set", "acme", "--name", "A", "--term", "48"}, "justification"},
		{"bad env term", []string{"VERZET_RELATION_TERM=soon"}, []string{"orgs", "set", "acme", "--name", "A"}, `VERZET_RELATION_TERM "soon"`},
		{"bad region", []string{"VERZET_DEFAULT_REGION=XX"}, []string{"check", "0612345678", "--org", "acme"}, `VERZET_DEFAULT_REGION "XX"`},
		{"bad since", nil, []string{"objections", "list", "--since", "yesterday"}, `since "yesterday"`},
		{"unknown subcommand", nil, []string{"objections", "delete"}, `subcommand "delete"`},
		{"unknown flag", nil, []string{"check", "0612345678", "--bogus"}, "bogus"},
		{"show unknown id", nil, []string{"objections", "show", "01NOPE"}, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, append(append([]string{}, env...), tc.env...), tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	// Nothing was half-written by the failed commands.
	out, _, code := run(t, env, "orgs", "list", "--json")
	var orgs []objections.Org
	if code != 0 || json.Unmarshal([]byte(out), &orgs) != nil || len(orgs) != 1 || orgs[0].ID != "acme" || orgs[0].Name != "acme" {
		t.Fatalf("orgs after bad input: %d %q", code, out)
	}
	out, _, code = run(t, env, "objections", "list", "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("objections after bad input: %d %q", code, out)
	}
}

func TestVerifyNamesTheFirstBrokenLink(t *testing.T) {
	dir := t.TempDir()
	env := []string{"VERZET_DATA_DIR=" + dir, "VERZET_DATABASE_URL="}
	initStore(t, env)
	setOrg(t, env, "acme")
	for _, n := range []string{"0612345601", "0612345602", "0612345603"} {
		if _, errOut, code := run(t, env, "objections", "record", n, "--org", "acme"); code != 0 {
			t.Fatal(errOut)
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits the evidence behind verzet's back (and has to drop the
	// append-only guard to do it).
	if _, err := db.Exec(`DROP TRIGGER events_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET payload = replace(payload, '+31612345602', '+31612345699') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, _, code := run(t, env, "verify")
	if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "seq 2") {
		t.Fatalf("verify after tampering: %d %q", code, out)
	}
}

func TestServeHealthReadyAndGracefulStop(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			cmd := exec.Command(binary, "serve")
			cmd.Env = append(os.Environ(), append(b.env(t), "VERZET_HTTP_ADDR=127.0.0.1:0", "VERZET_LOG_FORMAT=json")...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			addr := make(chan string, 1)
			logs := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					var line struct {
						Msg  string `json:"msg"`
						Addr string `json:"addr"`
					}
					if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
						addr <- line.Addr
					}
					select {
					case logs <- sc.Text():
					default:
					}
				}
				close(logs)
			}()
			var base string
			select {
			case a := <-addr:
				base = "http://" + a
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not start listening")
			}
			for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`} {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
					t.Fatalf("%s = %d %s", path, resp.StatusCode, body)
				}
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve exited with %v", err)
				}
			case <-ctx.Done():
				t.Fatal("serve did not stop on SIGTERM")
			}
			var all []string
			for l := range logs {
				all = append(all, l)
			}
			if !strings.Contains(strings.Join(all, "\n"), `"stopped"`) {
				t.Fatalf("no graceful stop in logs:\n%s", strings.Join(all, "\n"))
			}
		})
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	out, errOut, code := run(t, []string{"VERZET_ARI_PASSWORD=hunter2", "VERZET_DATABASE_URL=postgres://u:s3cret@db/verzet"}, "serve", "--help")
	if strings.Contains(out+errOut, "hunter2") || strings.Contains(out+errOut, "s3cret") {
		t.Errorf("serve --help prints a secret from the environment:\n%s", out)
	}
	if code != 0 {
		t.Fatalf("serve --help exit %d", code)
	}
	for _, s := range allSettings() {
		if !strings.Contains(out, s.env) || !strings.Contains(out, "--"+s.flag) {
			t.Errorf("serve --help does not mention %s (--%s)", s.env, s.flag)
		}
	}
}
