package twilio

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

// newRequest builds a webhook request to target (a public URL) signed for
// signedURL with token over f; "" leaves the signature out. body, when
// given, is sent instead of f.
func (r *rig) newRequest(target, signedURL, token string, f url.Values, body string) *http.Request {
	r.t.Helper()
	if body == "" {
		body = f.Encode()
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", twiliotest.Sign(token, signedURL, f))
	}
	return req
}

// Forged, missing and stale signatures get 403 and change nothing: no call
// record, no objection, no offer.
func TestSignatureRejected(t *testing.T) {
	const secondary = "11112222333344445555666677778888"
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := newRig(t, b.open(t), behindProxy("https://ivr.example.nl"), withConfig(func(c *Config) {
				c.AuthTokens = []string{testToken, secondary} // a rotation: both current
			}))
			gather := r.public + PathGather + "?lang=nl&org=acme&step=1"
			digits := form(sid(1), "Digits", "1")
			tampered := form(sid(1), "Digits", "2")
			withSignature := func(sig string) *http.Request {
				req := r.newRequest(gather, gather, "", digits, "")
				req.Header.Set("X-Twilio-Signature", sig)
				return req
			}
			tests := []struct {
				name string
				req  *http.Request
			}{
				{"no signature", r.newRequest(gather, gather, "", digits, "")},
				{"empty signature", withSignature("")},
				{"garbage signature", withSignature("not base64 at all ===")},
				{"wrong token", r.newRequest(gather, gather, "fedcba9876543210fedcba9876543210", digits, "")},
				{"stale token (rotated out)", r.newRequest(gather, gather, "00000000111111112222222233333333", digits, "")},
				{"Digits changed after signing", r.newRequest(gather, gather, testToken, tampered, digits.Encode())},
				{"signed for http, not https", r.newRequest(gather, strings.Replace(gather, "https:", "http:", 1), testToken, digits, "")},
				{"signed without the query", r.newRequest(gather, r.public+PathGather, testToken, digits, "")},
				{"signature of another step replayed", r.newRequest(strings.Replace(gather, "step=1", "step=2", 1), gather, testToken, digits, "")},
				{"signed for the listen address, not the public URL", r.newRequest(gather, r.server.URL+PathGather+"?lang=nl&org=acme&step=1", testToken, digits, "")},
				{"query parameter added after signing", r.newRequest(gather+"&number=0687654321", gather, testToken, digits, "")},
				{"status callback unsigned", r.newRequest(r.public+PathStatus, r.public+PathStatus, "", form(sid(1), "CallStatus", "completed"), "")},
				{"voice unsigned", r.newRequest(r.voiceURL("org=acme"), r.voiceURL("org=acme"), "", form(sid(1)), "")},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					code, body := r.send(tc.req)
					if code != http.StatusForbidden || !strings.Contains(body, "X-Twilio-Signature") {
						t.Fatalf("%d %q, want 403 naming X-Twilio-Signature", code, body)
					}
				})
			}
			if rec, _ := r.record(sid(1)); rec != nil {
				t.Fatalf("a rejected request stored a call record: %+v", rec)
			}
			if objs, offers := r.objections(), r.offers(); len(objs) != 0 || len(offers) != 0 {
				t.Fatalf("a rejected request recorded %d objections, %d offers", len(objs), len(offers))
			}
			if got := r.handler.Stats().Rejected.Load(); got != int64(len(tests)) {
				t.Fatalf("rejected = %d, want %d", got, len(tests))
			}
			// The same request, signed right, with either token of the rotation, goes through.
			for _, tok := range []string{testToken, secondary} {
				if code, body := r.send(r.newRequest(gather, gather, tok, digits, "")); code != 200 || !strings.Contains(body, "<Response>") {
					t.Fatalf("valid request with token %s…: %d %s", tok[:4], code, body)
				}
			}
			if objs := r.objections(); len(objs) != 1 {
				t.Fatalf("%d objections after the valid request", len(objs))
			}
		})
	}
}

// Behind a TLS-terminating proxy that strips a path prefix, signatures
// are checked against VERZET_PUBLIC_URL, not the address verzet listens
// on, and the TwiML's URLs are public ones.
func TestBehindProxy(t *testing.T) {
	r := newRig(t, openSQLite(t), behindProxy("https://ivr.example.nl/verzet"))
	tr := r.run(r.call("1"))
	if len(r.objections()) != 1 {
		t.Fatalf("objection not recorded behind the proxy\n%s", tr)
	}
	gather := tr.Steps[0].Verbs[0]
	if !strings.HasPrefix(gather.Attrs["action"], "https://ivr.example.nl/verzet/twilio/gather?") ||
		!strings.HasPrefix(gather.Children[0].Text, "https://ivr.example.nl/verzet/prompts/nl/") {
		t.Fatalf("TwiML URLs are not public ones: %+v", gather)
	}
	// Signed for the address the server actually listens on: refused.
	direct := r.server.URL + PathVoice + "?org=acme"
	req := r.newRequest(r.voiceURL("org=acme"), direct, testToken, form(sid(5)), "")
	if code, _ := r.send(req); code != http.StatusForbidden {
		t.Fatalf("request signed for the listen address: %d, want 403", code)
	}
}

// Without a public URL (serve --demo on one machine) the base is the
// request's own scheme and Host.
func TestPublicURLFromHost(t *testing.T) {
	r := newRig(t, openSQLite(t))
	r.handler.cfg.PublicURL = ""
	tr := r.run(r.call("1"))
	if len(r.objections()) != 1 || !strings.HasPrefix(tr.Steps[0].Verbs[0].Attrs["action"], r.server.URL+PathGather) {
		t.Fatalf("demo base URL:\n%s", tr)
	}
}

func TestRefusedRequests(t *testing.T) {
	r := newRig(t, openSQLite(t))
	voice := r.voiceURL("org=acme")
	signed := func(target string, f url.Values) *http.Request { return r.newRequest(target, target, testToken, f, "") }
	tests := []struct {
		name   string
		req    *http.Request
		status int
		want   string // the message names the field and the value
	}{
		{"GET", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, voice, nil)
			return req
		}(), http.StatusMethodNotAllowed, "method GET"},
		{"PUT on gather", func() *http.Request {
			req := signed(r.public+PathGather+"?step=1", form(sid(1)))
			req.Method = http.MethodPut
			return req
		}(), http.StatusMethodNotAllowed, "method PUT"},
		{"JSON body", func() *http.Request {
			req := signed(voice, form(sid(1)))
			req.Header.Set("Content-Type", "application/json")
			return req
		}(), http.StatusUnsupportedMediaType, `Content-Type "application/json"`},
		{"no content type", func() *http.Request {
			req := signed(voice, form(sid(1)))
			req.Header.Del("Content-Type")
			return req
		}(), http.StatusUnsupportedMediaType, `Content-Type ""`},
		{"oversized body", r.newRequest(voice, voice, testToken, form(sid(1), "Padding", strings.Repeat("x", MaxBody)), ""),
			http.StatusRequestEntityTooLarge, "larger than 65536 bytes"},
		{"number that is not a phone number", signed(r.voiceURL("org=acme&number=06-12"), form(sid(1))), http.StatusBadRequest, `number "06-12"`},
		{"unknown language", signed(r.voiceURL("org=acme&lang=xx"), form(sid(1))), http.StatusBadRequest, `lang "xx": is not a language of the prompt catalogue (en, nl)`},
		{"unknown parameter", signed(r.voiceURL("org=acme&campagin=spring"), form(sid(1))), http.StatusBadRequest, `campagin "spring": is not a parameter`},
		{"bad org", signed(r.voiceURL("org=Acme+Inc"), form(sid(1))), http.StatusBadRequest, `org "acme inc"`},
		{"no org and no default", signed(r.voiceURL(""), form(sid(1))), http.StatusBadRequest, `org "": is missing`},
		{"bad announced", signed(r.voiceURL("org=acme&announced=yes"), form(sid(1))), http.StatusBadRequest, `announced "yes"`},
		{"repeated parameter", signed(r.voiceURL("org=acme&org=beta"), form(sid(1))), http.StatusBadRequest, `org "acme,beta": is given 2 times`},
		{"gather without step", signed(r.public+PathGather+"?org=acme", form(sid(1), "Digits", "1")), http.StatusBadRequest, `step ""`},
		{"gather with step 0", signed(r.public+PathGather+"?org=acme&step=0", form(sid(1), "Digits", "1")), http.StatusBadRequest, `step "0"`},
		{"bad CallSid", signed(voice, form("CA123")), http.StatusBadRequest, `CallSid "CA123"`},
		{"Digits not DTMF", signed(r.public+PathGather+"?org=acme&step=1", form(sid(1), "Digits", "x")), http.StatusBadRequest, "Digits"},
		// twilio-go's validator signs only the first value of a parameter:
		// a second one, appended to a signed body, must not get through.
		{"form parameter appended after signing", r.newRequest(voice, voice, testToken, form(sid(1)), form(sid(1)).Encode()+"&CallSid="+sid(2)),
			http.StatusBadRequest, "CallSid"},
		{"bad SequenceNumber", signed(r.public+PathStatus, form(sid(1), "SequenceNumber", "-3")), http.StatusBadRequest, `SequenceNumber "-3"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := r.send(tc.req)
			if code != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %q; want %d containing %q", code, body, tc.status, tc.want)
			}
		})
	}
	if rec, _ := r.record(sid(1)); rec != nil {
		t.Fatalf("a refused request stored a call record")
	}
}
