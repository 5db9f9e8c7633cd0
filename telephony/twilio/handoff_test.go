package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/verzet/verzet/objections"
)

// fakeAPI is Twilio's REST API for UpdateCall, answering as Twilio does.
type fakeAPI struct {
	mu       sync.Mutex
	requests []*http.Request
	forms    []url.Values
	status   int
	body     string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	f.mu.Lock()
	f.requests, f.forms = append(f.requests, r), append(f.forms, form)
	status, body := f.status, f.body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// rewrite sends every request to the fake API, whatever host twilio-go uses.
type rewrite struct{ target *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = rw.target.Scheme, rw.target.Host
	return http.DefaultTransport.RoundTrip(out)
}

func TestHandoff(t *testing.T) {
	const callSid = "CA1f2e3d4c5b6a79880a1b2c3d4e5f6071"
	voice := VoiceURL("https://ivr.example.nl", url.Values{"org": {"acme"}, "campaign": {"spring"}})
	tests := []struct {
		name   string
		cfg    RESTConfig
		status int
		body   string
		code   string // objections code; "" success
	}{
		{"auth token", RESTConfig{AccountSID: testAccount, AuthToken: testToken}, 200, `{"sid":"` + callSid + `","status":"in-progress"}`, ""},
		{"API key", RESTConfig{AccountSID: testAccount, APIKey: "SK0123", APISecret: "secret"}, 200, `{"sid":"` + callSid + `"}`, ""},
		{"unknown call", RESTConfig{AccountSID: testAccount, AuthToken: testToken}, 404,
			`{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`, objections.ENOTFOUND},
		{"call not in progress", RESTConfig{AccountSID: testAccount, AuthToken: testToken}, 400,
			`{"code": 21220, "message": "Call is not in-progress. Cannot redirect.", "status": 400}`, objections.ECONFLICT},
		{"bad credentials", RESTConfig{AccountSID: testAccount, AuthToken: "wrong"}, 401,
			`{"code": 20003, "message": "Authenticate", "status": 401}`, objections.EINVALID},
		{"Twilio down", RESTConfig{AccountSID: testAccount, AuthToken: testToken}, 503, `{"code": 20500, "message": "Internal Server Error", "status": 503}`, objections.EUNAVAILABLE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{status: tc.status, body: tc.body}
			srv := httptest.NewServer(api)
			defer srv.Close()
			u, _ := url.Parse(srv.URL)
			tc.cfg.HTTPClient = &http.Client{Transport: rewrite{u}}
			rc, err := NewRESTClient(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = Handoff(context.Background(), rc.Api, callSid, voice)
			if objections.ErrorCode(err) != tc.code {
				t.Fatalf("Handoff: %v, want code %q", err, tc.code)
			}
			if tc.code == objections.EUNAVAILABLE && objections.ErrorMessage(err) != "Twilio unavailable" {
				t.Fatalf("Handoff: message %q, want it to name Twilio, not the store", objections.ErrorMessage(err))
			}
			if len(api.requests) != 1 {
				t.Fatalf("%d requests", len(api.requests))
			}
			r, f := api.requests[0], api.forms[0]
			user, pass, _ := r.BasicAuth()
			wantUser, wantPass := testAccount, tc.cfg.AuthToken
			if tc.cfg.APIKey != "" {
				wantUser, wantPass = tc.cfg.APIKey, tc.cfg.APISecret
			}
			if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testAccount+"/Calls/"+callSid+".json" ||
				f.Get("Url") != voice || f.Get("Method") != "POST" || user != wantUser || pass != wantPass {
				t.Fatalf("request %s %s form %v auth %s", r.Method, r.URL.Path, f, user)
			}
		})
	}
}

type updaterFunc func() error

func (f updaterFunc) UpdateCall(string, *openapi.UpdateCallParams) (*openapi.ApiV2010Call, error) {
	return nil, f()
}

func TestHandoffInvalid(t *testing.T) {
	never := updaterFunc(func() error { return errors.New("must not be called") })
	voice := "https://ivr.example.nl/twilio/voice?org=acme"
	for _, tc := range []struct {
		name, sid, url, field string
	}{
		{"short sid", "CA123", voice, "CALLSID"},
		{"account sid", testAccount, voice, "CALLSID"},
		{"relative url", "CA1f2e3d4c5b6a79880a1b2c3d4e5f6071", "/twilio/voice", "voice URL"},
	} {
		err := Handoff(context.Background(), never, tc.sid, tc.url)
		var e *objections.Error
		if !errors.As(err, &e) || e.Code != objections.EINVALID || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Handoff(ctx, never, "CA1f2e3d4c5b6a79880a1b2c3d4e5f6071", voice); objections.ErrorCode(err) != objections.EUNAVAILABLE {
		t.Errorf("cancelled: %v", err)
	}
	for _, c := range []RESTConfig{{AccountSID: "AC1"}, {AccountSID: testAccount}, {AccountSID: testAccount, APIKey: "SK1"}} {
		if _, err := NewRESTClient(c); objections.ErrorCode(err) != objections.EINVALID || !strings.Contains(err.Error(), "VERZET_TWILIO_") {
			t.Errorf("NewRESTClient(%+v): %v", c, err)
		}
	}
}

// A Twilio that does not answer within the timeout is "Twilio
// unavailable", after the timeout and not much later.
func TestHandoffTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	u, _ := url.Parse(srv.URL)
	rc, err := NewRESTClient(RESTConfig{AccountSID: testAccount, AuthToken: testToken, Timeout: 200 * time.Millisecond,
		HTTPClient: &http.Client{Transport: rewrite{u}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = Handoff(context.Background(), rc.Api, "CA1f2e3d4c5b6a79880a1b2c3d4e5f6071", "https://ivr.example.nl/twilio/voice")
	if objections.ErrorCode(err) != objections.EUNAVAILABLE || objections.ErrorMessage(err) != "Twilio unavailable" {
		t.Fatalf("Handoff against a silent Twilio: %v", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 5*time.Second {
		t.Fatalf("gave up after %v, want the 200 ms timeout", el)
	}
}
