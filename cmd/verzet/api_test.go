package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startServe runs `verzet serve` on a free port and returns its base URL;
// it is stopped with SIGTERM when the test ends.
func startServe(t *testing.T, env []string) string {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), append(env, "VERZET_HTTP_ADDR=127.0.0.1:0", "VERZET_LOG_FORMAT=json")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logs strings.Builder
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		ch := make(chan error, 1)
		go func() { ch <- cmd.Wait() }()
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("serve logs:\n%s", logs.String())
			mu.Unlock()
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("serve did not start listening:\n%s", logs.String())
	}
	return ""
}

// call does one API request with a bearer token and returns status and body.
func call(t *testing.T, method, url, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The done-when, with the real binary: create a token, serve, and
// a dialer's callability check reflects at once an objection recorded by
// another process; scrub a CSV; webhooks arrive signed.
func TestAPIEndToEnd(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			const secret = "e2e-webhook-secret-0123456789"
			var (
				mu     sync.Mutex
				events []string
			)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				sig := r.Header.Get("Verzet-Signature")
				ts, v1, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
				m := hmac.New(sha256.New, []byte(secret))
				m.Write([]byte(ts + "."))
				m.Write(body)
				if hex.EncodeToString(m.Sum(nil)) != v1 {
					t.Errorf("bad signature %q", sig)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				var ev struct {
					Type string `json:"type"`
				}
				_ = json.Unmarshal(body, &ev)
				mu.Lock()
				events = append(events, ev.Type)
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}))
			defer hook.Close()

			env := append(b.env(t), "VERZET_WEBHOOK_URLS="+hook.URL, "VERZET_WEBHOOK_SECRET="+secret)
			initStore(t, env)
			setOrg(t, env, "acme")
			out, errOut, code := run(t, env, "tokens", "create", "--role", "dialer", "--name", "dialer-1")
			token := strings.TrimSpace(out)
			if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(token, "vzt_") {
				t.Fatalf("tokens create: %d %q %q", code, out, errOut)
			}
			if _, errOut, code := run(t, env, "tokens", "create", "--role", "dialer", "--name", "dialer-1"); code != 2 || !strings.Contains(errOut, "dialer-1") {
				t.Fatalf("duplicate name: %d %q", code, errOut)
			}
			if _, errOut, code := run(t, env, "tokens", "create", "--role", "root", "--name", "x"); code != 2 || !strings.Contains(errOut, `role "root"`) {
				t.Fatalf("bad role: %d %q", code, errOut)
			}
			base := startServe(t, env)

			check := base + "/v1/callability/06%201234%205678?org=acme"
			if status, _ := call(t, "GET", check, "", "", ""); status != http.StatusUnauthorized {
				t.Fatalf("no token: %d", status)
			}
			status, body := call(t, "GET", check, token, "", "")
			if status != 200 || !strings.Contains(body, `"callable":false`) || !strings.Contains(body, `"no_basis"`) {
				t.Fatalf("before: %d %s", status, body)
			}
			// Another process records an objection; the next check sees it.
			if out, errOut, code := run(t, env, "objections", "record", "0612345678", "--org", "acme", "--source", "agent"); code != 0 {
				t.Fatalf("record: %d %s %s", code, out, errOut)
			}
			status, body = call(t, "GET", check, token, "", "")
			if status != 200 || !strings.Contains(body, `"reasons":["objection"]`) {
				t.Fatalf("after: %d %s", status, body)
			}
			status, body = call(t, "POST", base+"/v1/scrub?org=acme", token, "text/csv", "number\n0612345678\n0687654321\nnonsense\n")
			if status != 200 || body != "number,callable,basis,reason\n0612345678,false,none,objection\n0687654321,false,none,no_basis\nnonsense,false,none,invalid_number\n" {
				t.Fatalf("scrub: %d %q", status, body)
			}
			if status, _ = call(t, "GET", base+"/v1/objections", token, "", ""); status != http.StatusForbidden {
				t.Fatalf("dialer listing objections: %d", status)
			}
			if status, body = call(t, "GET", base+"/v1/openapi.json", "", "", ""); status != 200 || !strings.Contains(body, `"openapi": "3.0.3"`) {
				t.Fatalf("openapi: %d", status)
			}
			if status, body = call(t, "GET", base+"/metrics", "", "", ""); status != 200 || !strings.Contains(body, "verzet_api_requests_total") {
				t.Fatalf("metrics: %d", status)
			}
			// The CLI's objection reached the webhook, signed.
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				got := strings.Join(events, ",")
				mu.Unlock()
				if got == "objection.recorded" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("webhook events = %q", got)
				}
				time.Sleep(50 * time.Millisecond)
			}

			out, _, code = run(t, env, "tokens", "list")
			if code != 0 || !strings.Contains(out, "dialer-1") || strings.Contains(out, "vzt_") {
				t.Fatalf("tokens list: %d %q", code, out)
			}
			out, errOut, code = run(t, env, "tokens", "revoke", "dialer-1")
			if code != 0 || !strings.Contains(out, "revoked token") {
				t.Fatalf("tokens revoke: %d %q %q", code, out, errOut)
			}
			// Revoked in another process: refused once the cache TTL ran out.
			deadline = time.Now().Add(10 * time.Second)
			for {
				if status, _ := call(t, "GET", check, token, "", ""); status == http.StatusUnauthorized {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("revoked token still works")
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

func TestAPISettingsNameTheValue(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"VERZET_API_RATE=fast", `VERZET_API_RATE "fast"`},
		{"VERZET_API_BODY_LIMIT=huge", `VERZET_API_BODY_LIMIT "huge"`},
		{"VERZET_API_CHECK_FLIGHTS=9", `VERZET_API_CHECK_FLIGHTS "9"`},
		{"VERZET_DECISION_RETENTION=5 years", `VERZET_DECISION_RETENTION "5 years"`},
		{"VERZET_WEBHOOK_URLS=ftp://x", `VERZET_WEBHOOK_URLS "ftp://x"`},
		{"VERZET_WEBHOOK_URLS=https://hooks.example/x", "VERZET_WEBHOOK_SECRET"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			_, errOut, code := run(t, []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_HTTP_ADDR=127.0.0.1:0", tc.env}, "serve")
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %q", code, errOut, tc.want)
			}
		})
	}
}

func TestParseRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{{"5y", 1827 * day}, {"1y", 366 * day}, {"400d", 400 * day}, {"72h", 72 * time.Hour}, {"0", -1}} {
		if got, err := parseRetention(tc.in); err != nil || got != tc.want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "y", "-1y", "5w", "1.5y", "5 y"} {
		if _, err := parseRetention(bad); err == nil {
			t.Errorf("parseRetention(%q) accepted", bad)
		}
	}
}
