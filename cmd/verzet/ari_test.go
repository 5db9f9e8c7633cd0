package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/verzet/verzet/telephony/ari/aritest"
)

// ariServe is `verzet serve` with the Asterisk adapter, its logs kept.
type ariServe struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
	exit chan error
}

func (p *ariServe) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func startARIServe(t *testing.T, env []string) *ariServe {
	t.Helper()
	p := &ariServe{cmd: exec.Command(binary, "serve"), done: make(chan struct{}), exit: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), append(env, "VERZET_HTTP_ADDR=127.0.0.1:0", "VERZET_LOG_FORMAT=json")...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() {
		<-p.done
		p.exit <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("serve logs:\n%s", p.log())
		}
	})
	return p
}

// base waits until serve listens and returns its base URL.
func (p *ariServe) base(t *testing.T) string {
	t.Helper()
	var base string
	waitUntil(t, "listening", func() bool {
		for _, line := range strings.Split(p.log(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				base = "http://" + l.Addr
				return true
			}
		}
		return false
	})
	return base
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeARIEndToEnd is the done-when: `verzet serve` pointed at
// the fake Asterisk takes a call, the caller presses 1, and `verzet check`
// in another process says the number may not be called. SIGTERM then lets
// a dialogue in progress finish while a new channel is handed back.
func TestServeARIEndToEnd(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			const appName = "verzet-e2e"
			fake := aritest.Start(t, aritest.Options{Username: "verzet", Password: "pw",
				SoundDuration: func(string) (time.Duration, bool) { return 60 * time.Millisecond, true }})
			env := append(b.env(t), "VERZET_ARI_URL="+fake.URL(), "VERZET_ARI_USER=verzet", "VERZET_ARI_PASSWORD=pw", "VERZET_ARI_APP="+appName)
			p := startARIServe(t, env)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := fake.WaitRegistered(ctx, appName); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "event filter", func() bool { a, _, _ := fake.EventFilter(appName); return len(a) > 0 })

			call := func(number string) string {
				id, err := fake.StartCall(appName, aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": number, "VERZET_CAMPAIGN": "spring"}})
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			playing := func(id string) func() bool {
				return func() bool { ch, _ := fake.Channel(id); return ch.Playing != "" }
			}
			first := call("06 1234 5678")
			waitUntil(t, "offer", playing(first))
			if err := fake.Press(first, "1"); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "hang-up after the confirmation", func() bool { ch, _ := fake.Channel(first); return ch.HungUpBy == "app" })
			if ch, _ := fake.Channel(first); len(ch.Played) != 2 || !strings.Contains(ch.Played[1][0], "confirm") {
				t.Fatalf("played %v", ch.Played)
			}

			second := call("0687654321")
			waitUntil(t, "second offer", playing(second))
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "drain", func() bool { return strings.Contains(p.log(), "taking no new calls") })
			late := call("0611111111")
			waitUntil(t, "late call handed back", func() bool { ch, _ := fake.Channel(late); return ch.Continued })
			if ch, _ := fake.Channel(late); ch.Vars["VERZET_RESULT"] != "refused" || ch.Vars["VERZET_REFUSED"] != "shutdown" {
				t.Fatalf("late call: %+v", ch)
			}
			if err := fake.Press(second, "1"); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-p.exit:
				if err != nil {
					t.Fatalf("serve exited: %v", err)
				}
			case <-time.After(40 * time.Second):
				t.Fatal("serve did not stop after the last dialogue")
			}
			if ch, _ := fake.Channel(second); ch.HungUpBy != "app" || len(ch.Played) != 2 {
				t.Fatalf("second call: %+v", ch)
			}

			for _, n := range []string{"0612345678", "0687654321"} {
				out, _, code := run(t, env, "check", n, "--org", "acme")
				if code != 1 || !strings.Contains(out, "objection") {
					t.Fatalf("check %s: %d %q", n, code, out)
				}
			}
			logs := p.log()
			for _, digits := range []string{"612345678", "687654321", "pw\""} {
				if strings.Contains(logs, digits) {
					t.Errorf("logs hold %q in clear", digits)
				}
			}
		})
	}
}

// TestServeReadyzNamesMissingPromptAudio: `verzet serve` asks the node for
// every prompt sound when it connects; one that is missing makes /readyz
// unavailable, naming the node and the sound (issue 14).
func TestServeReadyzNamesMissingPromptAudio(t *testing.T) {
	const appName = "verzet-readyz"
	fake := aritest.Start(t, aritest.Options{Username: "verzet", Password: "pw",
		SoundDuration: func(uri string) (time.Duration, bool) {
			// Installed as `verzet prompts install` does, but for one.
			installed := strings.HasPrefix(uri, "sound:verzet/nl/") || strings.HasPrefix(uri, "sound:verzet/en/")
			return 20 * time.Millisecond, installed && uri != "sound:verzet/nl/offer-3"
		}})
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_TWILIO_AUTH_TOKEN=",
		"VERZET_ARI_URL=" + fake.URL(), "VERZET_ARI_USER=verzet", "VERZET_ARI_PASSWORD=pw", "VERZET_ARI_APP=" + appName}
	p := startARIServe(t, env)
	base := p.base(t)
	var body struct {
		Status  string   `json:"status"`
		Missing []string `json:"ari_media_missing"`
	}
	var code int
	waitUntil(t, "the missing sound on /readyz", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		code = resp.StatusCode
		return json.NewDecoder(resp.Body).Decode(&body) == nil && len(body.Missing) > 0
	})
	// Degraded, not unavailable: the API stays in the load balancer.
	if code != http.StatusOK || body.Status != "degraded" || len(body.Missing) != 1 ||
		body.Missing[0] != fake.Addr()+": sound verzet/nl/offer-3 is not installed" {
		t.Fatalf("/readyz = %d %+v", code, body)
	}
	if !strings.Contains(p.log(), "Asterisk cannot play some prompt audio") {
		t.Fatal("the missing sound is not in the log")
	}
}

// serveTwilioAndARI starts `verzet serve` with env, signed Twilio webhooks
// at a fixed public URL and the Asterisk adapter on a fake Asterisk as app,
// and waits until the adapter is registered with its event filter. It
// returns the serve's env and public URL, and the fake.
func serveTwilioAndARI(t *testing.T, env []string, app string, wait time.Duration) ([]string, string, *aritest.Asterisk) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	public := "http://" + addr
	fake := aritest.Start(t, aritest.Options{Username: "verzet", Password: "pw",
		SoundDuration: func(string) (time.Duration, bool) { return 40 * time.Millisecond, true }})
	env = append(env, "VERZET_HTTP_ADDR="+addr, "VERZET_PUBLIC_URL="+public,
		"VERZET_TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef",
		"VERZET_ARI_URL="+fake.URL(), "VERZET_ARI_USER=verzet", "VERZET_ARI_PASSWORD=pw", "VERZET_ARI_APP="+app)
	startServeProc(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := fake.WaitRegistered(ctx, app); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "event filter", func() bool { a, _, _ := fake.EventFilter(app); return len(a) > 0 })
	return env, public, fake
}
