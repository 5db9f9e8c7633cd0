package twilio

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

// golden compares got with testdata/name.golden; -update rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update, then review the diff):\n%s", p, got)
	}
}

type hook struct{ path, digits string }

// The TwiML of every dialogue state, as golden files, and checked
// structurally: Twilio executes what is parsed, not what is written.
func TestTwiMLPerState(t *testing.T) {
	const public = "https://ivr.example.nl"
	voice := hook{PathVoice + "?org=acme", ""}
	gather := func(digits string) hook { return hook{PathGather + "?lang=nl&org=acme&step=1", digits} }
	tests := []struct {
		name   string
		opts   []rigOption
		before []hook // webhooks before the one recorded
		last   hook
		check  func(t *testing.T, vs []twiliotest.Verb)
	}{
		{name: "offer", last: hook{PathVoice + "?org=acme&campaign=spring+%26+summer&announced=1", ""}, check: checkGather("nl/offer-1.wav", 1)},
		{name: "invalid", before: []hook{voice}, last: gather("7"), check: checkGather("nl/invalid.wav", 2)},
		{name: "repeat", before: []hook{voice}, last: gather(""), check: checkGather("nl/repeat.wav", 2)},
		{name: "confirm", before: []hook{voice}, last: gather("1"), check: checkEnd("nl/confirm-1.wav")},
		{name: "goodbye", before: []hook{voice}, last: gather("2"), check: checkEnd("nl/goodbye.wav")},
		{name: "sorry", opts: []rigOption{withBrokenStore()}, before: []hook{voice}, last: gather("1"), check: checkEnd("nl/sorry.wav")},
		{name: "english", last: hook{PathVoice + "?org=acme&lang=en", ""}, check: checkGather("en/offer-1.wav", 1)},
		{name: "tts", opts: []rigOption{withConfig(func(c *Config) { c.Voices = map[string]Voice{"nl": {Name: "Polly.Lotte"}} })},
			last: voice, check: func(t *testing.T, vs []twiliotest.Verb) {
				t.Helper()
				say := vs[0].Children[0]
				if len(vs[0].Children) != 1 || say.Name != "Say" || say.Attrs["voice"] != "Polly.Lotte" || say.Attrs["language"] != "nl-NL" ||
					!strings.HasPrefix(say.Text, "Niet meer gebeld worden door deze organisatie") {
					t.Fatalf("say = %+v", say)
				}
			}},
		{name: "ended", last: hook{PathVoice + "?org=acme", "hung up"}, check: func(t *testing.T, vs []twiliotest.Verb) {
			t.Helper()
			if len(vs) != 0 {
				t.Fatalf("verbs = %+v, want none", vs)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, openSQLite(t), append([]rigOption{behindProxy(public)}, tc.opts...)...)
			s := sid(1)
			for _, h := range tc.before {
				r.post(public+h.path, form(s, "Digits", h.digits))
			}
			f := form(s, "Digits", tc.last.digits)
			if tc.last.digits == "hung up" {
				f = form(s, "CallStatus", "completed")
			}
			code, body := r.post(public+tc.last.path, f)
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			if !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`) {
				t.Fatalf("the document must start with the XML declaration (Twilio error 12100):\n%s", body)
			}
			if strings.Contains(body, "&lang") || strings.Contains(body, "&org") || strings.Contains(body, "&step") {
				t.Fatalf("an unescaped & in a URL (Twilio error 12100):\n%s", body)
			}
			var anyXML struct{}
			if err := xml.Unmarshal([]byte(body), &anyXML); err != nil {
				t.Fatalf("not XML: %v", err)
			}
			vs, err := twiliotest.ParseTwiML([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, vs)
			golden(t, "twiml-"+tc.name, []byte(body))
		})
	}
}

// checkGather checks a gathering document: the first sound, the action
// step, finishOnKey written empty, the no-key redirect to the same URL.
func checkGather(first string, step int) func(t *testing.T, vs []twiliotest.Verb) {
	return func(t *testing.T, vs []twiliotest.Verb) {
		t.Helper()
		if len(vs) != 2 || vs[0].Name != "Gather" || vs[1].Name != "Redirect" {
			t.Fatalf("verbs = %+v", vs)
		}
		g := vs[0]
		fk, hasFK := g.Attrs["finishOnKey"]
		if g.Attrs["input"] != "dtmf" || g.Attrs["numDigits"] != "1" || g.Attrs["timeout"] != "6" || !hasFK || fk != "" || g.Attrs["method"] != "POST" {
			t.Fatalf("gather attributes = %v", g.Attrs)
		}
		if !strings.HasPrefix(g.Attrs["action"], "https://ivr.example.nl/twilio/gather?") || !strings.HasSuffix(g.Attrs["action"], "step="+strconv.Itoa(step)) {
			t.Fatalf("action = %s", g.Attrs["action"])
		}
		if vs[1].Text != g.Attrs["action"] || vs[1].Attrs["method"] != "POST" {
			t.Fatalf("redirect = %+v", vs[1])
		}
		if len(g.Children) == 0 || !strings.Contains(g.Children[0].Text, "/prompts/"+first+"?v=") {
			t.Fatalf("first play = %+v, want %s", g.Children, first)
		}
		for _, c := range g.Children {
			if c.Name != "Play" || !strings.HasPrefix(c.Text, "https://ivr.example.nl/prompts/") {
				t.Fatalf("gather child = %+v", c)
			}
		}
	}
}

// checkEnd checks a closing document: prompts, then <Hangup/>.
func checkEnd(first string) func(t *testing.T, vs []twiliotest.Verb) {
	return func(t *testing.T, vs []twiliotest.Verb) {
		t.Helper()
		if len(vs) < 2 || vs[0].Name != "Play" || !strings.Contains(vs[0].Text, "/prompts/"+first) || vs[len(vs)-1].Name != "Hangup" {
			t.Fatalf("verbs = %+v", vs)
		}
		for _, v := range vs {
			if v.Name == "Gather" || v.Name == "Redirect" {
				t.Fatalf("a closing document gathers: %+v", vs)
			}
		}
	}
}

func TestParseVoices(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]Voice
		bad  bool
	}{
		{"", nil, false},
		{"Polly.Lotte", map[string]Voice{"": {Name: "Polly.Lotte"}}, false},
		{"nl=Polly.Lotte, en=Polly.Amy", map[string]Voice{"nl": {Name: "Polly.Lotte"}, "en": {Name: "Polly.Amy"}}, false},
		{"nl=", nil, true},
		{"=Polly.Lotte", nil, true},
		{"nl=Polly.Lotte,nl=Polly.Ruben", nil, true},
		{"Polly Lotte", nil, true},
		{`nl=a"b`, nil, true},
	}
	for _, tc := range tests {
		got, err := ParseVoices(tc.in)
		if tc.bad {
			var e *objections.Error
			if !errors.As(err, &e) || e.Field != "VERZET_TWILIO_TTS" {
				t.Errorf("ParseVoices(%q) err = %v, want invalid VERZET_TWILIO_TTS", tc.in, err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseVoices(%q) = %v, %v", tc.in, got, err)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseVoices(%q)[%q] = %v, want %v", tc.in, k, got[k], v)
			}
		}
	}
}

// The TwiML writer escapes what it is given.
func TestRenderEscapes(t *testing.T) {
	doc := render(xmlResponse{Verbs: []any{
		xmlSay{Voice: `v"1`, Language: "nl-NL", Text: `Tom & Jerry <b> "quoted"`},
		xmlRedirect{Method: "POST", URL: "https://x/y?a=1&b=<2>"},
	}})
	vs, err := twiliotest.ParseTwiML(doc)
	if err != nil || vs[0].Text != `Tom & Jerry <b> "quoted"` || vs[0].Attrs["voice"] != `v"1` || vs[1].Text != "https://x/y?a=1&b=<2>" {
		t.Fatalf("round trip: %v %+v\n%s", err, vs, doc)
	}
	if bytes.Contains(doc, []byte("Tom & Jerry")) || bytes.Contains(doc, []byte("a=1&b")) {
		t.Fatalf("unescaped:\n%s", doc)
	}
}
