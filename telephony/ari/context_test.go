package ari

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/CyCoreSystems/ari/v5/client/native"
	"github.com/rotisserie/eris"
	"go.uber.org/zap"

	"github.com/verzet/verzet/prompts"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"bare org", []string{"acme"}, map[string]string{VarOrg: "acme"}},
		{"pairs any case", []string{"org=acme", "Campaign=spring", "VERZET_LEAD=L1", " number = 06 1234 5678 "},
			map[string]string{VarOrg: "acme", VarCampaign: "spring", VarLead: "L1", VarNumber: "06 1234 5678"}},
		{"bare later args ignored", []string{"acme", "extra", "lang=en"}, map[string]string{VarOrg: "acme", VarLang: "en"}},
		{"empty first arg", []string{"", "org=acme"}, map[string]string{VarOrg: "acme"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseArgs(tc.args); !maps.Equal(got, tc.want) {
				t.Fatalf("parseArgs(%q) = %v, want %v", tc.args, got, tc.want)
			}
		})
	}
}

func TestCustomerNumber(t *testing.T) {
	cases := []struct {
		name                                   string
		explicit, direction, caller, connected string
		want                                   string
	}{
		{"VERZET_NUMBER wins", "0612345678", "inbound", "0201111111", "", "0612345678"},
		{"inbound: caller id", "", "inbound", "0612345678", "100", "0612345678"},
		{"inbound spelled in", "", "IN", "0612345678", "", "0612345678"},
		{"outbound Dial(): caller id is the dialled number", "", "", "0612345678", "0201234567", "0612345678"},
		{"outbound Originate: caller id is ours", "", "outbound", "0201234567", "0201234567", ""},
		{"outbound without caller id", "", "outbound", "", "0201234567", ""},
		{"inbound withheld", "", "inbound", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := customerNumber(tc.explicit, tc.direction, tc.caller, tc.connected); got != tc.want {
				t.Fatalf("customerNumber = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIVRContext(t *testing.T) {
	c := ivrContext(callInfo{id: "1.2", caller: "0612345678", connected: "0201234567", vars: map[string]string{
		VarOrg: " Acme ", VarCampaign: "c", VarLead: "l", VarAgent: "a", VarDialerCall: "d", VarAnnounced: "Yes", VarLang: "EN"}}, "fallback")
	if c.Org != "acme" || c.CampaignRef != "c" || c.LeadRef != "l" || c.AgentRef != "a" || c.DialerCallRef != "d" || !c.Announced ||
		c.Language != "en" || c.Provider != "ari" || c.CallRef != "1.2" || c.Number != "0612345678" || c.PresentedNumber != "" {
		t.Fatalf("context = %+v", c)
	}
	if c := ivrContext(callInfo{id: "1.3", vars: map[string]string{}}, "fallback"); c.Org != "fallback" || c.Announced {
		t.Fatalf("default org: %+v", c)
	}
}

func TestStatusOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
		gone bool
	}{
		{"nil", nil, 0, false},
		{"ours", &restError{code: 404}, 404, true},
		{"wrapped with %w", fmt.Errorf("answer: %w", &restError{code: 409}), 409, true},
		{"eris", eris.Wrap(&restError{code: 412}, "x"), 412, true},
		{"cause only", &causeErr{&restError{code: 404}}, 404, true},
		{"server error", &restError{code: 500}, 500, false},
		{"network", errors.New("connection refused"), 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusOf(tc.err); got != tc.want || gone(tc.err) != tc.gone {
				t.Fatalf("statusOf = %d gone = %v, want %d %v", got, gone(tc.err), tc.want, tc.gone)
			}
		})
	}
}

// causeErr is how ari/v5 wraps Data errors: Cause, no Unwrap.
type causeErr struct{ c error }

func (e *causeErr) Error() string { return "data: " + e.c.Error() }
func (e *causeErr) Cause() error  { return e.c }

// TestInternals pins the two fields of ari/v5 v5.3.1's native.Client the
// adapter reaches: a library upgrade that moves them fails here.
func TestInternals(t *testing.T) {
	cl := native.New(&native.Options{Application: "x", Username: "u", Password: "p"})
	hc := &http.Client{Timeout: 1234}
	if err := setHTTPClient(cl, hc); err != nil {
		t.Fatal(err)
	}
	f, err := field(cl, "httpClient", reflect.TypeOf(http.Client{}))
	if err != nil || f.Interface().(http.Client).Timeout != 1234 {
		t.Fatalf("httpClient not set: %v", err)
	}
	if _, err := listenCancel(cl); err == nil {
		t.Fatal("cancel of a client never connected should be missing")
	}
	var c context.CancelFunc = func() {}
	cf, _ := field(cl, "cancel", reflect.TypeOf(context.CancelFunc(nil)))
	cf.Set(reflect.ValueOf(c))
	if got, err := listenCancel(cl); err != nil || got == nil {
		t.Fatalf("listenCancel = %v, %v", got, err)
	}
}

func TestMediaURIs(t *testing.T) {
	pb := prompts.Playback{Sounds: []prompts.Sound{{Name: "verzet/nl/offer-1"}, {Name: "verzet/nl/org"}}}
	cases := []struct {
		name, mediaURL string
		want           []string
	}{
		{"installed sounds", "", []string{"sound:verzet/nl/offer-1", "sound:verzet/nl/org"}},
		{"over HTTP", "http://verzet:8080/ari/media/", []string{"sound:http://verzet:8080/ari/media/verzet/nl/offer-1.wav", "sound:http://verzet:8080/ari/media/verzet/nl/org.wav"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &Adapter{cfg: Config{MediaURL: tc.mediaURL}}
			if got := a.media(pb); !slices.Equal(got, tc.want) {
				t.Fatalf("media = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMediaHandler(t *testing.T) {
	cat, err := prompts.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := MediaHandler(cat)
	get := func(path, etag string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	w := get("/verzet/nl/offer-1.wav", "")
	snd, _ := cat.Sound("verzet/nl/offer-1")
	if w.Code != 200 || w.Header().Get("Content-Type") != "audio/wav" || !bytes.Equal(w.Body.Bytes(), snd.Audio) || w.Header().Get("ETag") == "" {
		t.Fatalf("GET: %d %v", w.Code, w.Header())
	}
	if w2 := get("/verzet/nl/offer-1.wav", w.Header().Get("ETag")); w2.Code != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", w2.Code)
	}
	for _, p := range []string{"/verzet/nl/nope.wav", "/verzet/nl/offer-1", "/../verzet/nl/offer-1.wav"} {
		if w := get(p, ""); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no URL", Config{Username: "u", Password: "p"}},
		{"no password", Config{URLs: []string{"http://pbx:8088/ari"}, Username: "u"}},
		{"credentials in the URL", Config{URLs: []string{"http://u:p@pbx:8088/ari"}, Username: "u", Password: "p"}},
		{"not http", Config{URLs: []string{"pbx:8088"}, Username: "u", Password: "p"}},
		{"same node twice", Config{URLs: []string{"http://pbx:8088/ari", "http://pbx:8088/ari/"}, Username: "u", Password: "p"}},
		{"comma in the app", Config{URLs: []string{"http://pbx:8088/ari"}, Username: "u", Password: "p", App: "a,b"}},
		{"bad media URL", Config{URLs: []string{"http://pbx:8088/ari"}, Username: "u", Password: "p", MediaURL: "verzet:8080"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, nil, nil, zap.NewNop()); err == nil {
				t.Fatal("accepted")
			} else if strings.Contains(err.Error(), ":p@") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}
