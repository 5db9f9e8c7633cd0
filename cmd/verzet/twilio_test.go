package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveProc is a running `verzet serve` process.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	logs chan map[string]any
	done chan error
}

// startServeProc runs the real binary's serve with env and args, and waits
// until it listens.
func startServeProc(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), append(env, "VERZET_LOG_FORMAT=json")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProc{cmd: cmd, logs: make(chan map[string]any, 1000), done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			if line["msg"] == "listening" {
				addr <- line["addr"].(string)
			}
			select {
			case s.logs <- line:
			default:
			}
		}
		close(s.logs)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.addr = <-addr:
	case err := <-s.done:
		t.Fatalf("serve exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start listening")
	}
	return s
}

// logLine returns the first log line with msg, waiting a little for it.
func (s *serveProc) logLine(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.logs:
			if !ok {
				t.Fatalf("serve ended without logging %q", msg)
			}
			if l["msg"] == msg {
				return l
			}
		case <-deadline:
			t.Fatalf("serve did not log %q", msg)
		}
	}
}

func (s *serveProc) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Error("serve did not stop on SIGTERM")
	}
}

// envOf returns KEY's value in env.
func envOf(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// The done-when: `verzet serve --demo` on the store prints the one
// command that simulates a call; run as printed, it records an objection
// that `verzet check` then reports.
func TestTwilioDemoEndToEnd(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			srv := startServeProc(t, append(env, "VERZET_HTTP_ADDR=127.0.0.1:0"), "--demo")
			demo := srv.logLine(t, "twilio demo: in another shell, run")
			command, _ := demo["command"].(string)
			then, _ := demo["then"].(string)
			args := strings.Fields(command)
			if len(args) < 3 || args[0] != "verzet" || !strings.Contains(command, "--url http://"+srv.addr) ||
				!strings.Contains(command, "--data-dir "+envOf(env, "VERZET_DATA_DIR")) {
				t.Fatalf("printed command %q (listening on %s)", command, srv.addr)
			}
			out, errOut, code := run(t, env, args[1:]...)
			if code != 0 || !strings.Contains(out, "Digits=1") || !strings.Contains(out, "nl/confirm-1.wav") ||
				!strings.Contains(out, "call ended: hangup") || !strings.Contains(out, "/twilio/status CallStatus=completed") {
				t.Fatalf("simulate: exit %d\n%s\n%s", code, out, errOut)
			}
			checkArgs := strings.Fields(then)
			out, _, code = run(t, env, checkArgs[1:]...)
			if code != 1 || !strings.Contains(out, "NOT CALLABLE") || !strings.Contains(out, "reasons=objection") || !strings.Contains(out, "ivr-twilio") {
				t.Fatalf("check: exit %d %q", code, out)
			}
			out, _, code = run(t, env, "offers", "list", "--json")
			var offers []map[string]any
			if code != 0 || json.Unmarshal([]byte(out), &offers) != nil || len(offers) != 1 || offers[0]["outcome"] != "objected" || offers[0]["provider"] != "twilio" {
				t.Fatalf("offers: %d %s", code, out)
			}
			// The token stays in the data dir, owner-only.
			st, err := os.Stat(envOf(env, "VERZET_DATA_DIR") + "/" + demoTokenFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("demo token file: %v %v", st, err)
			}
		})
	}
}

// With a real token the webhooks check signatures against VERZET_PUBLIC_URL:
// the simulator signing with the token gets through, with another it gets
// 403 and nothing is recorded.
func TestTwilioWithToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	public := "http://" + addr
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_HTTP_ADDR=" + addr,
		"VERZET_PUBLIC_URL=" + public, "VERZET_TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef", "VERZET_DEFAULT_ORG=acme"}
	startServeProc(t, env)
	out, errOut, code := run(t, append(env, "VERZET_TWILIO_AUTH_TOKEN=fedcba9876543210fedcba9876543210"),
		"simulate", "twilio", "--url", public, "--to", "0612345678", "--keys", "1")
	if code != 1 || !strings.Contains(out, "← 403") || !strings.Contains(errOut, "403") {
		t.Fatalf("wrong token: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, _ = run(t, env, "objections", "list", "--json")
	if strings.TrimSpace(out) != "[]" {
		t.Fatalf("a forged call recorded: %s", out)
	}
	out, errOut, code = run(t, env, "simulate", "twilio", "--url", public, "--to", "0612345678", "--keys", ",2", "--campaign", "spring")
	if code != 0 || !strings.Contains(out, "(no key)") || !strings.Contains(out, "nl/repeat.wav") || !strings.Contains(out, "nl/goodbye.wav") {
		t.Fatalf("no key, then decline: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = run(t, env, "simulate", "twilio", "--url", public, "--to", "0612345678", "--keys", "1", "--lang", "en")
	if code != 0 || !strings.Contains(out, "en/confirm-1.wav") {
		t.Fatalf("english objection: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, _, code := run(t, env, "check", "0612345678"); code != 1 || !strings.Contains(out, "reasons=objection") {
		t.Fatalf("check: %d %s", code, out)
	}
}

// Without a token (and without --demo) the Twilio endpoints are off.
func TestTwilioOffWithoutToken(t *testing.T) {
	srv := startServeProc(t, []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_HTTP_ADDR=127.0.0.1:0"})
	for _, p := range []string{"/twilio/voice", "/twilio/gather?step=1", "/twilio/status"} {
		resp, err := http.Post("http://"+srv.addr+p, "application/x-www-form-urlencoded", strings.NewReader("CallSid=x"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", p, resp.StatusCode)
		}
	}
	resp, err := http.Get("http://" + srv.addr + "/prompts/nl/offer-1.wav")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("prompt audio = %d, want 404", resp.StatusCode)
	}
}

func TestTwilioBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	env := []string{"VERZET_DATA_DIR=" + dir, "VERZET_DATABASE_URL=", "VERZET_TWILIO_AUTH_TOKEN=", "VERZET_PUBLIC_URL=",
		"VERZET_TWILIO_ACCOUNT_SID=", "VERZET_DEFAULT_ORG=", "VERZET_HTTP_ADDR=127.0.0.1:0"}
	tok := "VERZET_TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef"
	sim := []string{"simulate", "twilio", "--url", "http://127.0.0.1:1", "--to", "0612345678"}
	const callSid = "CA1f2e3d4c5b6a79880a1b2c3d4e5f6071"
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"simulate without subcommand", nil, []string{"simulate"}, `subcommand ""`},
		{"simulate something else", nil, []string{"simulate", "asterisk"}, `subcommand "asterisk"`},
		{"simulate without url", []string{tok}, []string{"simulate", "twilio", "--to", "0612345678"}, `url ""`},
		{"simulate relative url", []string{tok}, []string{"simulate", "twilio", "--url", "localhost:8080", "--to", "0612345678"}, `url "localhost:8080"`},
		{"simulate without to", []string{tok}, []string{"simulate", "twilio", "--url", "http://127.0.0.1:1"}, `to ""`},
		{"simulate bad to", []string{tok}, []string{"simulate", "twilio", "--url", "http://127.0.0.1:1", "--to", "06-12"}, `to "06-12"`},
		{"simulate bad direction", []string{tok}, append(sim, "--direction", "sideways"), `direction "sideways"`},
		{"simulate bad keys", []string{tok}, append(sim, "--keys", "12"), `keys "12"`},
		{"simulate unknown language", []string{tok}, append(sim, "--lang", "xx"), `lang "xx"`},
		{"simulate bad number", []string{tok}, append(sim, "--number", "abc"), `number "abc"`},
		{"simulate unknown flag", []string{tok}, append(sim, "--bogus"), "bogus"},
		{"simulate without any token", nil, sim, "VERZET_TWILIO_AUTH_TOKEN"},
		{"simulate against nothing", []string{tok}, sim, `url "http://127.0.0.1:1": cannot be reached`},
		{"twilio without subcommand", nil, []string{"twilio"}, `subcommand ""`},
		{"twilio other subcommand", nil, []string{"twilio", "dial"}, `subcommand "dial"`},
		{"handoff without call sid", nil, []string{"twilio", "handoff", "--org", "acme"}, "CALLSID"},
		{"handoff without org", nil, []string{"twilio", "handoff", callSid}, "org"},
		{"handoff without public url", nil, []string{"twilio", "handoff", callSid, "--org", "acme"}, "VERZET_PUBLIC_URL"},
		{"handoff without account sid", []string{tok, "VERZET_PUBLIC_URL=https://ivr.example.nl"}, []string{"twilio", "handoff", callSid, "--org", "acme"}, "VERZET_TWILIO_ACCOUNT_SID"},
		{"handoff bad call sid", []string{tok, "VERZET_PUBLIC_URL=https://ivr.example.nl", "VERZET_TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef"},
			[]string{"twilio", "handoff", "CA123", "--org", "acme"}, `CALLSID "CA123"`},
		{"handoff bad language", []string{tok, "VERZET_PUBLIC_URL=https://ivr.example.nl"}, []string{"twilio", "handoff", callSid, "--org", "acme", "--lang", "fr"}, `lang "fr"`},
		{"serve with a token but no public url", []string{tok}, []string{"serve"}, "VERZET_PUBLIC_URL"},
		{"serve with a bad public url", []string{tok, "VERZET_PUBLIC_URL=ivr.example.nl"}, []string{"serve"}, `VERZET_PUBLIC_URL "ivr.example.nl"`},
		{"serve with a bad voice", []string{tok, "VERZET_PUBLIC_URL=https://ivr.example.nl", "VERZET_TWILIO_TTS=nl="}, []string{"serve"}, `VERZET_TWILIO_TTS "nl="`},
		{"serve with a voice for a missing language", []string{"VERZET_TWILIO_TTS=fr=Polly.Lea"}, []string{"serve", "--demo"}, `VERZET_TWILIO_TTS "fr=Polly.Lea"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, append(append([]string{}, env...), tc.env...), tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

// The commands' help names the Twilio settings.
func TestTwilioHelp(t *testing.T) {
	for _, args := range [][]string{{"serve", "--help"}, {"simulate", "twilio", "--help"}, {"twilio", "handoff", "--help"}} {
		out, _, code := run(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, want := range []string{"VERZET_TWILIO_AUTH_TOKEN", "VERZET_PUBLIC_URL"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v does not mention %s", args, want)
			}
		}
	}
}
