package twilio

import (
	"bytes"
	"encoding/xml"
	"math"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// TwiML is written with encoding/xml rather than twilio-go's twiml package:
// that package drops attributes whose value is "" — so it cannot write
// finishOnKey="", which makes # an ordinary key instead of "no input" —
// and it writes attributes in random order, which would make the documents
// differ on every call. encoding/xml escapes & < > and quotes in both text
// and attributes.

type xmlResponse struct {
	XMLName xml.Name `xml:"Response"`
	Verbs   []any
}

type xmlGather struct {
	XMLName   xml.Name `xml:"Gather"`
	Input     string   `xml:"input,attr"`
	NumDigits int      `xml:"numDigits,attr"`
	Timeout   int      `xml:"timeout,attr"`
	// FinishOnKey is always written, empty: every key is a choice.
	FinishOnKey string `xml:"finishOnKey,attr"`
	Action      string `xml:"action,attr"`
	Method      string `xml:"method,attr"`
	Verbs       []any
}

type xmlPlay struct {
	XMLName xml.Name `xml:"Play"`
	URL     string   `xml:",chardata"`
}

type xmlSay struct {
	XMLName  xml.Name `xml:"Say"`
	Voice    string   `xml:"voice,attr,omitempty"`
	Language string   `xml:"language,attr,omitempty"`
	Text     string   `xml:",chardata"`
}

type xmlRedirect struct {
	XMLName xml.Name `xml:"Redirect"`
	Method  string   `xml:"method,attr"`
	URL     string   `xml:",chardata"`
}

type xmlHangup struct {
	XMLName xml.Name `xml:"Hangup"`
}

// Voice is a Twilio text-to-speech voice for <Say>.
type Voice struct {
	Name     string // e.g. Polly.Lotte, Google.nl-NL-Wavenet-A, alice
	Language string // e.g. nl-NL; "" derives it from the catalogue language
}

// locales maps catalogue languages to the language attribute of <Say>.
var locales = map[string]string{"nl": "nl-NL", "en": "en-GB", "de": "de-DE", "fr": "fr-FR", "es": "es-ES", "it": "it-IT", "pl": "pl-PL", "tr": "tr-TR"}

func locale(lang string) string {
	if l, ok := locales[lang]; ok {
		return l
	}
	return lang
}

// ParseVoices reads VERZET_TWILIO_TTS: a bare voice for every language
// ("Polly.Lotte") or one per catalogue language
// ("nl=Polly.Lotte,en=Polly.Amy"). The empty string means no voices: the
// catalogue audio is played. EINVALID names the malformed entry.
func ParseVoices(s string) (map[string]Voice, error) {
	names, err := objections.ParseVoices("VERZET_TWILIO_TTS", s)
	if err != nil || names == nil {
		return nil, err
	}
	voices := make(map[string]Voice, len(names))
	for lang, name := range names {
		voices[lang] = Voice{Name: name}
	}
	return voices, nil
}

// voiceFor is the text-to-speech voice of a call in lang: the org's own
// (orgVoices, as objections.ParseVoices reads it), else the configured
// one, else none (audio is played).
func (h *Handler) voiceFor(orgVoices, lang string) string {
	if own, err := objections.ParseVoices("voices", orgVoices); err == nil {
		if v, ok := own[lang]; ok {
			return v
		}
		if v, ok := own[""]; ok {
			return v
		}
	}
	if v, ok := h.cfg.Voices[lang]; ok {
		return v.Name
	}
	return h.cfg.Voices[""].Name
}

// document renders a dialogue reply as TwiML. With Gather the prompts play
// inside <Gather>, so that a key stops them (barge-in), and a <Redirect>
// to the same action URL follows for the no-key path: Twilio falls through
// to it when the gather times out, and requests it without Digits. Without
// Gather the prompts play and the call ends.
func (h *Handler) document(base string, r ivr.Reply, action string) []byte {
	var plays []any
	for _, pb := range r.Plays {
		plays = append(plays, h.play(base, pb)...)
	}
	resp := xmlResponse{}
	switch {
	case r.Gather:
		resp.Verbs = []any{
			xmlGather{Input: "dtmf", NumDigits: 1, Timeout: seconds(r.Timeout), Action: action, Method: "POST", Verbs: plays},
			xmlRedirect{Method: "POST", URL: action},
		}
	default:
		resp.Verbs = append(plays, xmlHangup{})
	}
	return render(resp)
}

// play is one prompt: its sounds as <Play> of verzet's audio URLs, or its
// text as <Say> when the dialogue composed it for a text-to-speech voice
// (the call's flow names one), in the language of the prompt.
func (h *Handler) play(base string, pb prompts.Playback) []any {
	if pb.Voice != "" {
		lang := locale(pb.Lang)
		if v, ok := h.cfg.Voices[pb.Lang]; ok && v.Name == pb.Voice && v.Language != "" {
			lang = v.Language
		}
		return []any{xmlSay{Voice: pb.Voice, Language: lang, Text: pb.Text}}
	}
	out := make([]any, 0, len(pb.Sounds))
	for _, s := range pb.Sounds {
		out = append(out, xmlPlay{URL: h.soundURL(base, s)})
	}
	return out
}

// hangupDocument ends the call without a prompt.
func hangupDocument() []byte { return render(xmlResponse{Verbs: []any{xmlHangup{}}}) }

// emptyDocument is <Response/>: nothing to execute (the call is over).
func emptyDocument() []byte { return render(xmlResponse{}) }

func render(resp xmlResponse) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(resp); err != nil {
		// Fixed types of strings and ints do not fail to encode; should
		// one ever, the call still gets a valid document.
		return []byte(xml.Header + "<Response><Hangup></Hangup></Response>\n")
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// seconds is the whole seconds of d, at least 1 (Gather's timeout).
func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
