package twiliotest

import (
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/telephony/twilio"
)

// The package does not import twilio (twilio's tests use it); the audio
// path it shortens in transcripts must still be twilio's.
func TestPromptsPathIsTwilios(t *testing.T) {
	if promptsPath != twilio.PathPrompts {
		t.Fatalf("promptsPath = %q, twilio.PathPrompts = %q", promptsPath, twilio.PathPrompts)
	}
}

func TestParseTwiMLRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"text before the first element", "ok <Response/>"},
		{"not XML", "<Response>"},
		{"root is not Response", "<Reply><Hangup/></Reply>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseTwiML([]byte(tc.doc)); objections.ErrorCode(err) != objections.EINVALID {
				t.Fatalf("ParseTwiML = %v, want EINVALID", err)
			}
		})
	}
}

func TestParseTwiMLVerbs(t *testing.T) {
	vs, err := ParseTwiML([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Gather action="/g?step=1" timeout="6"><Play>https://x/prompts/nl/offer.wav?v=1</Play></Gather><Hangup/></Response>`))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Name != "Gather" || vs[0].Attrs["timeout"] != "6" || len(vs[0].Children) != 1 ||
		vs[0].Children[0].Text != "https://x/prompts/nl/offer.wav?v=1" || vs[1].Name != "Hangup" {
		t.Fatalf("verbs = %+v", vs)
	}
	if got := shortURL(vs[0].Children[0].Text); got != "nl/offer.wav" {
		t.Fatalf("shortURL = %q", got)
	}
}
