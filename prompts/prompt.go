package prompts

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ID names a prompt. The value is also the base name of the prompt's files
// in the catalogue ("offer" → offer.txt, offer-1.wav …).
type ID string

// The prompts every language of a catalogue must have.
const (
	// Offer is the objection offer: who will stop calling, and which key
	// objects and which declines.
	Offer ID = "offer"
	// Confirm is played after the objection has been committed.
	Confirm ID = "confirm"
	// Goodbye ends a call without an objection.
	Goodbye ID = "goodbye"
	// Invalid follows a key press that is neither the object nor the decline key.
	Invalid ID = "invalid"
	// Repeat introduces the offer when it is played a second time.
	Repeat ID = "repeat"
	// Sorry replaces Confirm when neither the store nor the local spool
	// could keep the key press: the caller is told honestly and asked to
	// call back, and the failure is logged and counted.
	Sorry ID = "sorry"
)

// IDs returns every prompt ID, sorted.
func IDs() []ID {
	return []ID{Confirm, Goodbye, Invalid, Offer, Repeat, Sorry}
}

func (id ID) valid() bool {
	switch id {
	case Offer, Confirm, Goodbye, Invalid, Repeat, Sorry:
		return true
	}
	return false
}

// Default keys, used when Vars leaves a key empty.
const (
	DefaultKeyObject  = "1"
	DefaultKeyDecline = "2"
)

// Vars fills a prompt's placeholders.
type Vars struct {
	// OrgID selects the organisation's name audio: org/{OrgID}.wav for
	// Catalog.Compose; for Library.Compose also the org's name kept in the
	// store, and the org's recordings that replace a prompt. Without name
	// audio the language's generic wording ("deze organisatie") is played
	// and reported instead.
	OrgID string
	// Org is the organisation's display name: the words of {org} in
	// Prompt.Render and in a text-to-speech voice's text, and the words
	// Library.Compose requires of the org's name audio (audio of an
	// earlier name is not played). Empty means the language's generic
	// wording.
	Org string
	// Voice, when set, is a provider's text-to-speech voice (Twilio
	// <Say>, e.g. Polly.Lotte) that speaks the prompt's text:
	// Library.Compose then returns the text with Org filled in and no
	// sounds, and the hash covers the text and the voice.
	Voice string
	// KeyObject is the key that records an objection; empty means "1".
	KeyObject string
	// KeyDecline is the key that declines; empty means "2".
	KeyDecline string
}

// defaultKeys returns the keys with the defaults for those left empty.
func (v Vars) defaultKeys() (object, decline string) {
	object, decline = v.KeyObject, v.KeyDecline
	if object == "" {
		object = DefaultKeyObject
	}
	if decline == "" {
		decline = DefaultKeyDecline
	}
	return object, decline
}

// keys returns the keys to play: the defaults for those left empty, and
// ErrInvalidKey unless they are two different digits.
func (v Vars) keys() (object, decline string, err error) {
	object, decline = v.defaultKeys()
	if !isKey(object) || !isKey(decline) || object == decline {
		return "", "", fmt.Errorf("%w: object %q, decline %q (want two different digits 0-9)", ErrInvalidKey, object, decline)
	}
	return object, decline, nil
}

func isKey(s string) bool { return len(s) == 1 && s[0] >= '0' && s[0] <= '9' }

// slot is a placeholder in a prompt text.
type slot string

const (
	slotOrg        slot = "org"
	slotKeyObject  slot = "key_object"
	slotKeyDecline slot = "key_decline"
)

// segment is one piece of a parsed prompt text: literal text (slot == "")
// or a placeholder.
type segment struct {
	text string
	slot slot
}

// maxTextRunes keeps prompts short (REQ-13: the Code Telemarketing
// deliberately shortened the objection text); it is a guard against a
// pasted paragraph, not a style rule.
const maxTextRunes = 300

// parseText splits a prompt text into literal segments and placeholders
// ({org}, {key_object}, {key_decline}). The text must be one line of valid
// UTF-8 without other braces.
func parseText(s string) ([]segment, error) {
	switch {
	case !utf8.ValidString(s):
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidText)
	case strings.TrimSpace(s) == "":
		return nil, fmt.Errorf("%w: empty", ErrInvalidText)
	case strings.ContainsAny(s, "\r\n"):
		return nil, fmt.Errorf("%w: more than one line", ErrInvalidText)
	case utf8.RuneCountInString(s) > maxTextRunes:
		return nil, fmt.Errorf("%w: %d characters, at most %d", ErrInvalidText, utf8.RuneCountInString(s), maxTextRunes)
	}
	var segs []segment
	for rest := s; rest != ""; {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			segs = append(segs, segment{text: rest})
			break
		}
		if rest[open] == '}' {
			return nil, fmt.Errorf("%w: unmatched }", ErrInvalidText)
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return nil, fmt.Errorf("%w: unmatched {", ErrInvalidText)
		}
		name := slot(rest[open+1 : open+1+end])
		switch name {
		case slotOrg, slotKeyObject, slotKeyDecline:
		default:
			return nil, fmt.Errorf("%w: unknown placeholder {%s}", ErrInvalidText, name)
		}
		if open > 0 {
			segs = append(segs, segment{text: rest[:open]})
		}
		segs = append(segs, segment{slot: name})
		rest = rest[open+1+end+1:]
	}
	return segs, nil
}

// spoken reports whether a literal segment says anything, i.e. has its own
// audio fragment. A segment of only spaces and punctuation (the "." after a
// final placeholder) has none.
func spoken(text string) bool {
	return strings.IndexFunc(text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// fragmentNames returns the audio file base names (without .wav) of a
// prompt's spoken segments, in order: "{id}" when there is one, else
// "{id}-1", "{id}-2", …. gen/main.go applies the same rule.
func fragmentNames(id ID, segs []segment) []string {
	n := 0
	for _, s := range segs {
		if s.slot == "" && spoken(s.text) {
			n++
		}
	}
	if n == 1 {
		return []string{string(id)}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", id, i+1)
	}
	return names
}

// Sound is one audio file of the catalogue.
type Sound struct {
	// Name is the file's path below the sounds directory, without ".wav",
	// e.g. "verzet/nl/offer-1": Asterisk plays it as "sound:verzet/nl/offer-1"
	// once Catalog.Install has written it.
	Name string
	// Audio is the complete WAV file (8 kHz mono 16-bit PCM). Do not modify it.
	Audio []byte
	// DurationMS is the playing time in milliseconds.
	DurationMS int64
}

// Prompt is one prompt of one language as stored in the catalogue.
type Prompt struct {
	// ID and Lang identify the prompt.
	ID   ID
	Lang string
	// Text is the template with {org}, {key_object} and {key_decline}
	// placeholders.
	Text string
	// Fragments are the prompt's own audio, in playing order, one per spoken
	// piece of Text between placeholders. Compose puts the placeholder audio
	// between them.
	Fragments []Sound
	// Version is the first 12 hex digits of Hash: short enough to log and
	// store with every offer record.
	Version string
	// Hash is the hex SHA-256 over Text and the Fragments' audio bytes, so it
	// changes with any change to the wording or the recording.
	Hash string
	// DurationMS is the total length of the Fragments (placeholder audio
	// excluded).
	DurationMS int64

	segs    []segment
	orgText string // the language's generic wording for {org}
}

// Render returns the prompt text with its placeholders filled: Vars.Org (or
// the language's generic wording when empty) and the keys (default "1" and
// "2"). Use it where the provider speaks text itself; when catalogue audio
// is played, Catalog.Compose returns the text that matches the audio.
func (p Prompt) Render(vars Vars) string {
	org := vars.Org
	if org == "" {
		org = p.orgText
	}
	return render(p.segs, org, vars)
}

// render fills segs with org and the keys of vars (default "1" and "2").
func render(segs []segment, org string, vars Vars) string {
	object, decline := vars.defaultKeys()
	var b strings.Builder
	for _, s := range segs {
		switch s.slot {
		case "":
			b.WriteString(s.text)
		case slotOrg:
			b.WriteString(org)
		case slotKeyObject:
			b.WriteString(object)
		case slotKeyDecline:
			b.WriteString(decline)
		}
	}
	return b.String()
}
