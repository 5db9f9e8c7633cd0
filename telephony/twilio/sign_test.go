package twilio

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

// The fixtures' signed requests (testdata/fixtures, copied byte for byte
// from the reference; README.txt lists URL and signature).
var fixtures = []struct {
	file, url, signature string
}{
	{"01-voice-ivr-entry.txt", "https://ivr.example.nl/twilio/voice/ivr", "Fc+2te8ViqeYS+uvXLG+prOKCt0="},
	{"02-gather-digits-1.txt", "https://ivr.example.nl/twilio/voice/gather?attempt=1", "vcFEhEY2B8bFbHIig6M2bxoaUP0="},
	{"03-gather-no-digits.txt", "https://ivr.example.nl/twilio/voice/gather?attempt=1", "GqeCc7eVMjbyup+cREAGLi7yEtA="},
	{"04-status-callback-completed.txt", "https://ivr.example.nl/twilio/voice/status", "hn/KLDyX5b6zwno7ixp322x8Pe4="},
	{"05-dial-action-agent-hangup.txt", "https://ivr.example.nl/twilio/voice/dial-ended", "4GDOHoIPzKPQTpZqLIT/1ab8R5Y="},
	{"06-voice-inbound-ringing.txt", "https://ivr.example.nl/twilio/voice/ivr", "+y68PzfuEHDgg5ZZq9buz6sTqwg="},
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type signCase struct {
	name, token, url string
	form             url.Values
	want             string
}

// Sign reproduces Twilio's published vectors and the fixtures' signatures,
// and twilio-go's validator accepts what Sign produces.
func TestSignVectors(t *testing.T) {
	v1 := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"}, "From": {"+14158675309"}, "To": {"+18005551212"}}
	v4 := url.Values{"Reason": {"Participant"}, "ReasonConferenceEnded": {"test"}}
	for k, v := range v1 {
		v4[k] = v
	}
	tests := []signCase{
		{"V1 Twilio's documentation", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", v1, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"V2 IVR gather", testToken, "https://ivr.example.nl/twilio/voice/gather?attempt=1", url.Values{
			"AccountSid": {testAccount}, "CallSid": {"CA1f2e3d4c5b6a79880a1b2c3d4e5f6071"}, "Digits": {"1"}, "From": {callCentre}, "To": {customer},
		}, "6qD7E4eDW640SjYG0vmaRXhwzxw="},
		{"twilio-go's own vector: sorted by name, not name+value", "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", v4, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
	}
	for _, f := range fixtures {
		form, err := url.ParseQuery(string(fixture(t, f.file)))
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, signCase{"fixture " + f.file, testToken, f.url, form, f.signature})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := twiliotest.Sign(tc.token, tc.url, tc.form); got != tc.want {
				t.Errorf("Sign = %s, want %s", got, tc.want)
			}
			rv := client.NewRequestValidator(tc.token)
			if !rv.ValidateBody(tc.url, []byte(tc.form.Encode()), tc.want) {
				t.Errorf("twilio-go's validator rejects the vector")
			}
		})
	}
}

// The fixtures verify byte for byte through the handler's check (the same
// validator, over the raw body), and any change breaks them.
func TestFixtureSignatures(t *testing.T) {
	h := &Handler{validators: []client.RequestValidator{client.NewRequestValidator(testToken)}}
	other := &Handler{validators: []client.RequestValidator{client.NewRequestValidator("fedcba9876543210fedcba9876543210")}}
	for _, f := range fixtures {
		body := fixture(t, f.file)
		t.Run(f.file, func(t *testing.T) {
			if !h.valid(f.url, body, f.signature) {
				t.Fatal("the fixture's signature does not verify")
			}
			for name, change := range map[string]struct{ url, body string }{
				"http instead of https":      {strings.Replace(f.url, "https:", "http:", 1), string(body)},
				"trailing slash":             {f.url + "/", string(body)},
				"other path":                 {strings.Replace(f.url, "/twilio/", "/twillio/", 1), string(body)},
				"body with a newline":        {f.url, string(body) + "\n"},
				"a value changed":            {f.url, strings.Replace(string(body), "CallStatus=", "CallStatus=x", 1)},
				"an empty parameter dropped": {f.url, strings.Replace(string(body), "&CalledCity=", "", 1)},
			} {
				if h.valid(change.url, []byte(change.body), f.signature) {
					t.Errorf("%s still verifies", name)
				}
			}
			if strings.Contains(f.url, "?") && h.valid(strings.Split(f.url, "?")[0], body, f.signature) {
				t.Errorf("dropping the query still verifies")
			}
			if other.valid(f.url, body, f.signature) {
				t.Errorf("another token verifies")
			}
		})
	}
}
