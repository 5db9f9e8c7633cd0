package objections

import (
	"strconv"
	"time"
)

// PromptAudio is one version of a prompt's audio kept in the store: an
// organisation's name as spoken (synthesised when the org was set or
// renamed, or recorded), or a recording that replaces one catalogue prompt
// for one org or for every org. Every instance plays the same audio, and
// rows are never changed or deleted: a new recording is a new Version, so
// an offer's evidence can always be traced to the audio it played.
//
// The prompt id and the audio format are the prompts package's business;
// the store keeps them as plain values (objections does not import
// prompts).
type PromptAudio struct {
	// Seq orders every row of the table; the store assigns it. Readers
	// load what is new since the last Seq they saw.
	Seq int64 `json:"seq"`
	// Org is the organisation the audio is for; "" means every org
	// (scope "global").
	Org string `json:"org,omitempty"`
	// Prompt is the prompt id ("offer", "confirm", …), or "org" for the
	// {org} placeholder: the org's name, or (global) the generic wording.
	Prompt   string `json:"prompt"`
	Language string `json:"language"`
	// Version counts the rows of (Org, Prompt, Language) from 1; the store
	// assigns it.
	Version int `json:"version"`
	// Source is "synthetic" (text-to-speech) or "recorded" (a person).
	Source string `json:"source"`
	// Template is the prompt text the audio says, with its placeholders;
	// empty for a name. Text is what it says, placeholders filled.
	Template string `json:"template,omitempty"`
	Text     string `json:"text"`
	// Hash is the hex SHA-256 the prompts package computed over the text
	// and the audio; DurationMS the audio's playing time.
	Hash       string `json:"hash"`
	DurationMS int64  `json:"duration_ms"`
	// WAV is the audio as played: 8 kHz mono 16-bit PCM.
	WAV       []byte    `json:"-"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Prompt audio sources.
const (
	PromptSynthetic = "synthetic"
	PromptRecorded  = "recorded"
)

// MaxPromptWAV bounds PromptAudio.WAV: two minutes of 8 kHz 16-bit audio.
const MaxPromptWAV = 2 * 60 * 16000

// Scope is "org" for audio of one org, "global" for every org.
func (a PromptAudio) Scope() string {
	if a.Org == "" {
		return "global"
	}
	return "org"
}

// CheckStorable validates a before it is added. EINVALID names the field.
// A zero CreatedAt is the current time; times become StoredTime.
func (a *PromptAudio) CheckStorable() error {
	if a.Org != "" {
		if err := ValidateOrgID(a.Org); err != nil {
			return err
		}
	}
	if err := ValidateLanguage(a.Language); err != nil {
		return err
	}
	switch {
	case a.Prompt == "" || len(a.Prompt) > 32:
		return Invalid("prompt", a.Prompt, "must be a prompt id such as offer, or org for the name")
	case a.Source != PromptSynthetic && a.Source != PromptRecorded:
		return Invalid("source", a.Source, "must be synthetic or recorded")
	case a.Text == "":
		return Invalid("text", a.Text, "is empty: say what the audio says")
	case len(a.Hash) != 64:
		return Invalid("hash", a.Hash, "must be 64 hex digits")
	case len(a.WAV) == 0:
		return Invalid("wav", "", "is empty")
	case len(a.WAV) > MaxPromptWAV:
		return Invalid("wav", strconv.Itoa(len(a.WAV))+" bytes", "is larger than %d bytes", MaxPromptWAV)
	case a.DurationMS <= 0:
		return Invalid("duration_ms", strconv.FormatInt(a.DurationMS, 10), "must be positive")
	}
	if err := validTexts("template", a.Template, "text", a.Text, "created_by", a.CreatedBy); err != nil {
		return err
	}
	if len(a.Template) > 1000 || len(a.Text) > 1000 {
		return Invalid("text", a.Text, "is longer than 1000 characters")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	a.CreatedAt = StoredTime(a.CreatedAt)
	return nil
}

// PromptPlayback is the evidence of what one composed prompt said: the
// exact words spoken, the text-to-speech voice when a provider spoke them,
// and the sounds played in order. It is keyed by the prompt's hash, which
// an offer records (Offer.PromptHash): the same words and audio always have
// the same hash, so one row serves every offer that played them.
type PromptPlayback struct {
	Hash     string `json:"hash"`
	Prompt   string `json:"prompt"`
	Language string `json:"language"`
	Version  string `json:"version"`
	Text     string `json:"text"`
	// Voice is the provider's text-to-speech voice (e.g. Polly.Lotte) that
	// spoke Text; "" when audio was played.
	Voice string `json:"voice,omitempty"`
	// Sounds are the names of the audio played, in order.
	Sounds    []string  `json:"sounds"`
	CreatedAt time.Time `json:"created_at"`
}

// CheckStorable validates p before it is kept. EINVALID names the field.
func (p *PromptPlayback) CheckStorable() error {
	switch {
	case len(p.Hash) != 64:
		return Invalid("hash", p.Hash, "must be 64 hex digits")
	case p.Prompt == "" || len(p.Prompt) > 32:
		return Invalid("prompt", p.Prompt, "must be a prompt id")
	case p.Text == "" || len(p.Text) > 2000:
		return Invalid("text", p.Text, "must be 1 to 2000 bytes")
	case len(p.Sounds) > 64:
		return Invalid("sounds", strconv.Itoa(len(p.Sounds)), "must be at most 64")
	}
	if err := ValidateLanguage(p.Language); err != nil {
		return err
	}
	if err := validTexts("version", p.Version, "text", p.Text, "voice", p.Voice); err != nil {
		return err
	}
	for _, s := range p.Sounds {
		if s == "" || len(s) > MaxRef {
			return Invalid("sounds", s, "must be names of 1 to %d characters", MaxRef)
		}
	}
	if p.Sounds == nil {
		p.Sounds = []string{}
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now()
	}
	p.CreatedAt = StoredTime(p.CreatedAt)
	return nil
}
