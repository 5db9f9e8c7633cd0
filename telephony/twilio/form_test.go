package twilio

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections"
)

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string // "" valid
	}{
		{"fixture 02", string(fixture(t, "02-gather-digits-1.txt")), ""},
		{"fixture 04", string(fixture(t, "04-status-callback-completed.txt")), ""},
		{"no CallSid", "From=%2B31612345678", "CallSid"},
		{"lower-case hex CallSid", "CallSid=CA" + strings.Repeat("ab", 16), ""},
		{"CallSid too long", "CallSid=CA" + strings.Repeat("a", 33), "CallSid"},
		{"AccountSid malformed", "CallSid=" + sid(1) + "&AccountSid=AC1", "AccountSid"},
		{"Digits with star and hash", "CallSid=" + sid(1) + "&Digits=%2A%23", ""},
		{"Digits with a letter", "CallSid=" + sid(1) + "&Digits=1x", "Digits"},
		{"Digits too long", "CallSid=" + sid(1) + "&Digits=" + strings.Repeat("1", 33), "Digits"},
		{"SequenceNumber not a number", "CallSid=" + sid(1) + "&SequenceNumber=three", "SequenceNumber"},
		{"a value too long", "CallSid=" + sid(1) + "&From=" + strings.Repeat("1", 300), "From"},
		{"not UTF-8", "CallSid=" + sid(1) + "&To=%ff", "To"},
		{"repeated parameter", "CallSid=" + sid(1) + "&Digits=1&Digits=2", "Digits"},
		{"malformed escape", "CallSid=" + sid(1) + "&To=%zz", "body"},
		{"unknown parameters are fine", "CallSid=" + sid(1) + "&NewTwilioThing=%7B%7D&msg=Gather+End", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWebhook([]byte(tc.body))
			var e *objections.Error
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.field != "" && (objections.ErrorCode(err) != objections.EINVALID || !errors.As(err, &e) || e.Field != tc.field):
				t.Fatalf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
	w, err := parseWebhook(fixture(t, "04-status-callback-completed.txt"))
	if err != nil || w.SequenceNumber != 3 || w.CallStatus != "completed" || w.CallbackSource != "call-progress-events" ||
		w.Timestamp.Format("2006-01-02T15:04:05Z07:00") != "2025-10-14T09:41:27Z" {
		t.Fatalf("status callback = %+v %v", w, err)
	}
}

func TestCustomerNumber(t *testing.T) {
	tests := []struct {
		direction, from, to string
		customer, presented string
	}{
		{"outbound-api", callCentre, customer, customer, callCentre},
		{"outbound-dial", callCentre, customer, customer, callCentre},
		{"inbound", customer, callCentre, customer, callCentre},
		{"inbound", "anonymous", callCentre, "", callCentre},
		{"inbound", "+266696687", callCentre, "", callCentre},
		{"inbound", "client:alice", callCentre, "", callCentre},
		{"trunking-originating", "sip:x@y", callCentre, "", callCentre},
	}
	for _, tc := range tests {
		c, p := customerNumber(webhook{Direction: tc.direction, From: tc.from, To: tc.to})
		if c != tc.customer || p != tc.presented {
			t.Errorf("%s %s→%s: customer %q presented %q", tc.direction, tc.from, tc.to, c, p)
		}
	}
}

// FuzzParseWebhook decodes arbitrary bodies (that passed a signature
// check): it never panics, and what it accepts is what the handler relies on.
func FuzzParseWebhook(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fixture(f, fx.file))
	}
	f.Add([]byte("CallSid=" + sid(1) + "&Digits=1&Digits=2"))
	f.Add([]byte("CallSid=" + sid(1) + "&SequenceNumber=99999999999999999999"))
	f.Add([]byte("CallSid=" + sid(1) + "&Timestamp=Tue%2C+14+Oct+2025+09%3A41%3A27+%2B0000"))
	f.Add([]byte("%"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := parseWebhook(body)
		if err != nil {
			if objections.ErrorCode(err) != objections.EINVALID {
				t.Fatalf("error code %q: %v", objections.ErrorCode(err), err)
			}
			return
		}
		if !callSidPattern.MatchString(w.CallSid) || len(w.Digits) > 32 || w.SequenceNumber < -1 {
			t.Fatalf("accepted %+v", w)
		}
		for _, r := range w.Digits {
			if !objections.ValidDigit(string(r)) {
				t.Fatalf("accepted Digits %q", w.Digits)
			}
		}
		for _, v := range []string{w.From, w.To, w.Direction, w.CallStatus, w.AccountSid} {
			if len(v) > maxParam {
				t.Fatalf("accepted a value of %d bytes", len(v))
			}
		}
	})
}

// FuzzParseParams reads arbitrary query strings of voice and action URLs.
func FuzzParseParams(f *testing.F) {
	f.Add("org=acme&campaign=spring&lead=L1&agent=A7&dialer_call=D9&announced=1&lang=nl&number=0612345678")
	f.Add("org=acme&step=3")
	f.Add("org=Acme&number=%2B31+(0)6-1234+5678")
	f.Add("campagin=x")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := parseParams(q, []string{"en", "nl"}, objections.Numbers{Region: "NL"}, "step")
		if err != nil {
			if objections.ErrorCode(err) != objections.EINVALID {
				t.Fatalf("error code %q: %v", objections.ErrorCode(err), err)
			}
			return
		}
		if p.Org != "" && objections.ValidateOrgID(p.Org) != nil {
			t.Fatalf("accepted org %q", p.Org)
		}
		if p.rawNumber != "" && !strings.HasPrefix(p.Number, "+") {
			t.Fatalf("accepted number %q as %q", p.rawNumber, p.Number)
		}
		// What verzet puts on its action URLs reads back the same.
		back, err := parseParams(p.query(), []string{"en", "nl"}, objections.Numbers{Region: "NL"})
		if err != nil || back != p {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", p.query().Encode(), back, err, p)
		}
	})
}
