package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const (
	handoffAccount = "AC0123456789abcdef0123456789abcdef"
	handoffCall    = "CA1f2e3d4c5b6a79880a1b2c3d4e5f6071"
	handoffToken   = "0123456789abcdef0123456789abcdef"
)

// twilioREST is Twilio's REST API as far as UpdateCall goes: it keeps each
// request and answers with status and body.
type twilioREST struct {
	status int
	body   string

	mu   sync.Mutex
	reqs []restRequest
}

type restRequest struct {
	method, path, contentType string
	user, pass                string
	basicAuth                 bool
	form                      url.Values
}

func (f *twilioREST) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	user, pass, ok := r.BasicAuth()
	f.mu.Lock()
	f.reqs = append(f.reqs, restRequest{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"),
		user: user, pass: pass, basicAuth: ok, form: form})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.body)
}

func (f *twilioREST) requests() []restRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]restRequest(nil), f.reqs...)
}

// startTwilioREST serves f, and returns its base URL.
func startTwilioREST(t *testing.T, f *twilioREST) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

// handoffEnv is the environment of `verzet twilio handoff` against the fake
// REST API at apiURL.
func handoffEnv(t *testing.T, apiURL string) []string {
	return []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_DEFAULT_ORG=",
		"VERZET_PUBLIC_URL=https://ivr.example.nl", "VERZET_TWILIO_ACCOUNT_SID=" + handoffAccount,
		"VERZET_TWILIO_AUTH_TOKEN=" + handoffToken, "VERZET_TWILIO_API_KEY=", "VERZET_TWILIO_API_SECRET=",
		"VERZET_TWILIO_API_URL=" + apiURL}
}

// `verzet twilio handoff` asks Twilio (UpdateCall) to have the live call
// fetch verzet's voice webhook, with the call's context on its query.
func TestTwilioHandoffRedirectsTheCall(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		basePath string // on VERZET_TWILIO_API_URL
		user     string
		pass     string
	}{
		{"auth token", nil, "", handoffAccount, handoffToken},
		{"API key", []string{"VERZET_TWILIO_API_KEY=SK0123456789abcdef0123456789abcdef", "VERZET_TWILIO_API_SECRET=keysecret42"}, "",
			"SK0123456789abcdef0123456789abcdef", "keysecret42"},
		{"API URL with a path", nil, "/mock/", handoffAccount, handoffToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &twilioREST{status: http.StatusOK, body: `{"sid":"` + handoffCall + `","account_sid":"` + handoffAccount + `","status":"in-progress"}`}
			base := startTwilioREST(t, api) + tc.basePath
			env := append(handoffEnv(t, base), tc.env...)
			out, errOut, code := run(t, env, "twilio", "handoff", handoffCall, "--org", "Acme", "--campaign", "spring",
				"--lead", "L-7", "--agent", "a12", "--dialer-call", "d-99", "--lang", "en", "--number", "06 1234 5678", "--announced")
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			reqs := api.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests to Twilio, want 1: %+v", len(reqs), reqs)
			}
			r := reqs[0]
			wantPath := strings.TrimSuffix(tc.basePath, "/") + "/2010-04-01/Accounts/" + handoffAccount + "/Calls/" + handoffCall + ".json"
			if r.method != http.MethodPost || r.path != wantPath {
				t.Errorf("request %s %s, want POST %s", r.method, r.path, wantPath)
			}
			if r.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", r.contentType)
			}
			if !r.basicAuth || r.user != tc.user || r.pass != tc.pass {
				t.Errorf("basic auth %v %q:%q, want %q:%q", r.basicAuth, r.user, r.pass, tc.user, tc.pass)
			}
			if len(r.form) != 2 || r.form.Get("Method") != http.MethodPost || r.form.Get("Twiml") != "" {
				t.Errorf("form %v, want Url and Method=POST only", r.form)
			}
			voice, err := url.Parse(r.form.Get("Url"))
			if err != nil || voice.Scheme != "https" || voice.Host != "ivr.example.nl" || voice.Path != "/twilio/voice" {
				t.Fatalf("Url %q (%v), want https://ivr.example.nl/twilio/voice?…", r.form.Get("Url"), err)
			}
			want := url.Values{"org": {"acme"}, "campaign": {"spring"}, "lead": {"L-7"}, "agent": {"a12"}, "dialer_call": {"d-99"},
				"lang": {"en"}, "number": {"+31612345678"}, "announced": {"1"}}
			if got := voice.Query(); got.Encode() != want.Encode() {
				t.Errorf("Url query %v, want %v", got, want)
			}
			if !strings.Contains(out, "call "+handoffCall+" handed off to "+r.form.Get("Url")) {
				t.Errorf("stdout %q", out)
			}
			if strings.Contains(out+errOut, tc.pass) {
				t.Errorf("the output holds the secret:\n%s\n%s", out, errOut)
			}
		})
	}
}

// A call Twilio does not know (404, code 20404) is an error naming the call
// SID, exit 2; the error path sends one request too, and retries nothing.
func TestTwilioHandoffUnknownCall(t *testing.T) {
	api := &twilioREST{status: http.StatusNotFound, body: `{"code": 20404, "message": "The requested resource /2010-04-01/Accounts/` +
		handoffAccount + `/Calls/` + handoffCall + `.json was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`}
	env := handoffEnv(t, startTwilioREST(t, api))
	out, errOut, code := run(t, env, "twilio", "handoff", handoffCall, "--org", "acme")
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, out, errOut)
	}
	if want := `verzet twilio handoff: CALLSID "` + handoffCall + `": Twilio knows no such call (Twilio answered 404, code 20404`; !strings.Contains(errOut, want) {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	if strings.Contains(out, "handed off") {
		t.Errorf("stdout %q claims a hand-off", out)
	}
	if n := len(api.requests()); n != 1 {
		t.Errorf("%d requests to Twilio, want 1", n)
	}
}

func TestTwilioHandoffBadAPIURL(t *testing.T) {
	for _, bad := range []string{"api.twilio.com", "ftp://api.twilio.com", "https://AC1:secret@api.twilio.com", "https://api.twilio.com/?x=1"} {
		t.Run(bad, func(t *testing.T) {
			_, errOut, code := run(t, handoffEnv(t, bad), "twilio", "handoff", handoffCall, "--org", "acme")
			if code != 2 || !strings.Contains(errOut, "VERZET_TWILIO_API_URL") || strings.Contains(errOut, "secret") {
				t.Fatalf("exit %d, stderr %q; want 2, naming VERZET_TWILIO_API_URL without the password", code, errOut)
			}
		})
	}
}
