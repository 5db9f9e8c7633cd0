package httpapi

import (
	"context"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Prompts stores an organisation's own recording of a prompt and lists
// what calls hear. cmd passes the prompt library; without it the
// /v1/prompts routes answer 404.
type Prompts interface {
	// RecordPrompt converts r.Audio (WAV or MP3), stores it as the next
	// version of the prompt and returns what calls will hear. Audio it
	// cannot use is an objections.Invalid error naming the field "audio".
	RecordPrompt(ctx context.Context, r PromptRecording) (RecordedPrompt, error)
	// PromptEntries lists, per prompt and language, what org's calls hear
	// ("" for every org).
	PromptEntries(ctx context.Context, org string) ([]PromptEntry, error)
}

// PromptRecording is one upload: a recording of prompt Prompt in
// Language, for Org ("" for every org), saying Text ("" for the
// catalogue's words).
type PromptRecording struct {
	Org, Prompt, Language, Text string
	Audio                       []byte
	// By names who recorded it, for the store: "api:" and the token id.
	By string
}

// PromptEntry is what calls hear for one prompt in one language.
type PromptEntry struct {
	Prompt   string `json:"prompt"`
	Language string `json:"language"`
	// Source is catalogue, synthetic or recorded.
	Source string `json:"source"`
	// Revision is the store's number of a recording; 0 for the catalogue.
	Revision   int    `json:"revision,omitempty"`
	Version    string `json:"version"`
	Hash       string `json:"hash"`
	DurationMS int64  `json:"duration_ms"`
	// Text is what it says, the org's name and keys filled in.
	Text string `json:"text"`
	// Unused describes the newest recording that is not played because it
	// no longer says the right words (the org was renamed, or its keys
	// changed).
	Unused string `json:"unused,omitempty"`
}

// RecordedPrompt is a stored recording and what was done to it.
type RecordedPrompt struct {
	PromptEntry
	Org string `json:"org,omitempty"`
	// From is the recording as uploaded, e.g. "44.1 kHz stereo 16-bit, 3.2 s".
	From string `json:"from"`
	// TrimmedMS is the silence cut before and after.
	TrimmedMS [2]int64 `json:"trimmed_ms"`
	PeakDBFS  float64  `json:"peak_dbfs"`
	GainDB    float64  `json:"gain_db"`
	// Clipped warns that the recording was made too loud.
	Clipped bool `json:"clipped"`
}

// WithPrompts serves the /v1/prompts routes with p.
func WithPrompts(p Prompts) Option { return func(s *Server) { s.recordings = p } }

// maxRecording bounds an upload: a minute of 48 kHz 24-bit stereo WAV is
// 17 MB.
const maxRecording = 64 << 20

// promptsOrg is the org a prompts request names with ?org=, checked: a
// principal scoped to some orgs names one of them (a one-org token may
// leave it out); only an unscoped one may act for every org (no org).
func (s *Server) promptsOrg(ctx context.Context, r *http.Request, tok access.Token, write bool) (string, error) {
	org := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("org")))
	if org == "" {
		switch {
		case tok.Orgs.All():
			return "", nil
		case len(tok.Orgs) == 1:
			org = tok.Orgs[0]
		default:
			return "", errInvalid("org", "", "is required for a token scoped to "+tok.Orgs.String()+": name one of its orgs")
		}
	}
	if write {
		if err := writeAccess(tok, org); err != nil {
			return "", err
		}
	} else if err := s.readOrg(ctx, tok, org); err != nil {
		return "", err
	}
	if _, err := s.reg.KnownOrg(ctx, "org", org); err != nil {
		return "", err
	}
	return org, nil
}

// putPrompt answers PUT /v1/prompts/{id}/{lang}: the body is the audio.
func (s *Server) putPrompt(w http.ResponseWriter, r *http.Request, tok access.Token) {
	org, err := s.promptsOrg(r.Context(), r, tok, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.recordings == nil {
		s.writeError(w, r, errNoPrompts)
		return
	}
	audio, err := io.ReadAll(io.LimitReader(r.Body, maxRecording+1))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case len(audio) == 0:
		s.writeError(w, r, errInvalid("audio", "", "the request body is empty: send the recording (WAV or MP3) as the body"))
		return
	case len(audio) > maxRecording:
		s.writeError(w, r, &http.MaxBytesError{Limit: maxRecording})
		return
	}
	rec, err := s.recordings.RecordPrompt(r.Context(), PromptRecording{Org: org, Prompt: r.PathValue("id"),
		Language: strings.ToLower(r.PathValue("lang")), Text: r.URL.Query().Get("text"), Audio: audio, By: "api:" + tok.ID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("prompt recorded", zap.String("prompt_id", rec.Prompt), zap.String("lang", rec.Language),
		zap.String("org", org), zap.Int("revision", rec.Revision), zap.String("token", tok.ID))
	writeJSON(w, http.StatusOK, rec)
}

// listPrompts answers GET /v1/prompts.
func (s *Server) listPrompts(w http.ResponseWriter, r *http.Request, tok access.Token) {
	org, err := s.promptsOrg(r.Context(), r, tok, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.recordings == nil {
		s.writeError(w, r, errNoPrompts)
		return
	}
	list, err := s.recordings.PromptEntries(r.Context(), org)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[PromptEntry]{Items: list})
}

// errNoPrompts answers the prompts routes of a server without the IVR.
var errNoPrompts = &apiError{status: http.StatusNotFound, code: objections.ENOTFOUND,
	detail: "this server has no prompts: it runs without the IVR (VERZET_FEATURES)"}
