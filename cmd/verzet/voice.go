package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/httpapi"
	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/prompts/beep"
	"github.com/verzet/verzet/prompts/espeak"
)

// This file is where the prompt library (prompts.Library) meets the store:
// the audio kept there (organisations' names as spoken, recordings that
// replace a prompt) is loaded into the library of every instance, names
// are synthesised when an org is set or renamed, and what each composed
// prompt said is kept as evidence (prompt_playbacks), keyed by the hash an
// offer records.

// promptStore is what the prompt library needs of the store; both stores
// have it (objections/storetest.RunPromptAudio).
type promptStore interface {
	AddPromptAudio(ctx context.Context, a objections.PromptAudio) (objections.PromptAudio, error)
	PromptAudios(ctx context.Context, after int64) ([]objections.PromptAudio, error)
	PutPromptPlayback(ctx context.Context, p objections.PromptPlayback) error
	PromptPlayback(ctx context.Context, hash string) (objections.PromptPlayback, error)
}

// recordingOf is a stored row as the library's recording.
func recordingOf(a objections.PromptAudio) prompts.Recording {
	return prompts.Recording{Seq: a.Seq, Org: a.Org, ID: prompts.ID(a.Prompt), Lang: a.Language, Revision: a.Version,
		Source: prompts.Source(a.Source), Template: a.Template, Text: a.Text, Audio: a.WAV, DurationMS: a.DurationMS,
		Hash: a.Hash, CreatedAt: a.CreatedAt}
}

// audioOf is a recording as the row to store.
func audioOf(r prompts.Recording, by string) objections.PromptAudio {
	return objections.PromptAudio{Org: r.Org, Prompt: string(r.ID), Language: r.Lang, Source: string(r.Source),
		Template: r.Template, Text: r.Text, Hash: r.Hash, DurationMS: r.DurationMS, WAV: r.Audio, CreatedBy: by}
}

// loadRecordings adds what the store has that lib has not seen yet.
func loadRecordings(ctx context.Context, st promptStore, lib *prompts.Library) error {
	rows, err := st.PromptAudios(ctx, lib.Seq())
	if err != nil {
		return err
	}
	recs := make([]prompts.Recording, len(rows))
	for i, r := range rows {
		recs[i] = recordingOf(r)
	}
	lib.Add(recs...)
	return nil
}

// storeRecording stores r as the next version of its prompt and adds it to
// lib, with the version the store gave it.
func storeRecording(ctx context.Context, st promptStore, lib *prompts.Library, r prompts.Recording, by string) (prompts.Recording, error) {
	a, err := st.AddPromptAudio(ctx, audioOf(r, by))
	if err != nil {
		return prompts.Recording{}, err
	}
	rec := recordingOf(a)
	lib.Add(rec)
	return rec, nil
}

// orgVars are the prompt variables of an org's calls: its display name
// and keys, as ivr.FlowFor gives them to the dialogue.
func orgVars(o objections.Org) prompts.Vars {
	v := prompts.Vars{OrgID: o.ID, KeyObject: o.IVR.KeyObject, KeyDecline: o.IVR.KeyDecline}
	if !o.AutoCreated && o.Name != o.ID {
		v.Org = o.Name
	}
	return v
}

// convertRecording reads a recording in any accepted WAV format and
// returns it as the library keeps audio: 8 kHz mono, trimmed and levelled.
func convertRecording(b []byte) ([]byte, beep.Format, prompts.Level, error) {
	samples, format, err := beep.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, format, prompts.Level{}, err
	}
	clean, level, err := prompts.CleanAudio(samples)
	if err != nil {
		return nil, format, level, err
	}
	return prompts.EncodeWAV(clean), format, level, nil
}

// recordPrompt converts raw (WAV or MP3), makes it the next version of
// prompt id in lang for org o (zero for every org), saying text (""
// for the catalogue's words), and stores it: what 'prompts record' and
// PUT /v1/prompts do. Audio it cannot use is an Invalid error naming the
// field and value given (the file, or the request body).
func recordPrompt(ctx context.Context, st promptStore, lib *prompts.Library, o objections.Org, id prompts.ID, lang, text string,
	raw []byte, field, value, by string) (prompts.Recording, beep.Format, prompts.Level, error) {
	wav, format, level, err := convertRecording(raw)
	if err != nil {
		return prompts.Recording{}, format, level, objections.Invalid(field, value, "%v", err)
	}
	r, err := lib.NewRecording(o.ID, id, strings.ToLower(lang), prompts.Recorded, text, orgVars(o), wav)
	if err != nil {
		return r, format, level, objections.Invalid("ID", string(id), "%v", err)
	}
	r, err = storeRecording(ctx, st, lib, r, by)
	return r, format, level, err
}

// RecordPrompt stores a recording uploaded through the API
// (httpapi.Prompts).
func (p *promptLibrary) RecordPrompt(ctx context.Context, in httpapi.PromptRecording) (httpapi.RecordedPrompt, error) {
	var o objections.Org
	if in.Org != "" {
		var err error
		if o, err = p.reg.KnownOrg(ctx, "org", in.Org); err != nil {
			return httpapi.RecordedPrompt{}, err
		}
	}
	if in.Language == "" {
		return httpapi.RecordedPrompt{}, objections.Invalid("lang", "", "is required, e.g. nl")
	}
	r, format, level, err := recordPrompt(ctx, p.store, p.lib, o, prompts.ID(in.Prompt), in.Language, in.Text, in.Audio, "audio", "", in.By)
	if err != nil {
		return httpapi.RecordedPrompt{}, err
	}
	return httpapi.RecordedPrompt{
		PromptEntry: httpapi.PromptEntry{Prompt: string(r.ID), Language: r.Lang, Source: string(r.Source), Revision: r.Revision,
			Version: r.Version(), Hash: r.Hash, DurationMS: r.DurationMS, Text: r.Text},
		Org: o.ID, From: format.String(), TrimmedMS: level.TrimmedMS, PeakDBFS: level.PeakDBFS, GainDB: level.GainDB, Clipped: level.Clipped,
	}, nil
}

// PromptEntries lists what org's calls hear (httpapi.Prompts).
func (p *promptLibrary) PromptEntries(ctx context.Context, org string) ([]httpapi.PromptEntry, error) {
	var vars prompts.Vars
	if org != "" {
		o, err := p.reg.KnownOrg(ctx, "org", org)
		if err != nil {
			return nil, err
		}
		vars = orgVars(o)
	}
	// Recordings another instance stored since the last poll.
	if err := loadRecordings(ctx, p.store, p.lib); err != nil {
		return nil, err
	}
	entries := p.lib.Entries(vars)
	out := make([]httpapi.PromptEntry, len(entries))
	for i, e := range entries {
		out[i] = httpapi.PromptEntry{Prompt: string(e.ID), Language: e.Lang, Source: string(e.Source), Revision: e.Revision,
			Version: e.Version, Hash: e.Hash, DurationMS: e.DurationMS, Text: e.Text, Unused: e.Unused}
	}
	return out, nil
}

// nameStatus says, per language, what an org's calls will say for its
// name.
type nameStatus struct {
	Lang   string
	Source prompts.Source // "" when the generic wording plays
	Text   string
	Note   string
}

// ensureNames makes sure an org's name is spoken in every language of the
// library: where no recording of its current name exists, it is
// synthesised with espeak-ng and stored (Synthetic). Without espeak-ng, or
// when synthesis fails, the generic wording plays and the status says why;
// the org itself is never refused for it.
func ensureNames(ctx context.Context, st promptStore, lib *prompts.Library, o objections.Org, by string) []nameStatus {
	vars := orgVars(o)
	var out []nameStatus
	for _, lang := range lib.Languages() {
		s := nameStatus{Lang: lang}
		if vars.Org == "" {
			s.Note = "the org has no display name of its own: the generic wording plays"
			out = append(out, s)
			continue
		}
		if e, ok := nameEntry(lib, vars, lang); ok {
			s.Source, s.Text = e.Source, e.Text
			out = append(out, s)
			continue
		}
		wav, err := synthesize(ctx, lang, vars.Org)
		if err == nil {
			var r prompts.Recording
			if r, err = lib.NewRecording(o.ID, prompts.OrgName, lang, prompts.Synthetic, "", vars, wav); err == nil {
				r, err = storeRecording(ctx, st, lib, r, by)
				s.Source, s.Text = prompts.Synthetic, r.Text
			}
		}
		if err != nil {
			s.Note = fmt.Sprintf("not synthesised (%v): the generic wording plays until a recording is made", err)
		}
		out = append(out, s)
	}
	return out
}

// nameEntry is the org's name audio in lang, when the library has audio
// that says its current name: recorded, synthesised, or in the org folder
// of VERZET_PROMPTS_DIR.
func nameEntry(lib *prompts.Library, vars prompts.Vars, lang string) (prompts.Entry, bool) {
	for _, e := range lib.Entries(vars) {
		if e.ID == prompts.OrgName && e.Lang == lang && e.Text == vars.Org {
			return e, true
		}
	}
	return prompts.Entry{}, false
}

// synthesize speaks text in lang with espeak-ng and returns it as the
// library keeps audio.
func synthesize(ctx context.Context, lang, text string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	raw, err := espeak.Speak(ctx, lang, text)
	if err != nil {
		return nil, err
	}
	wav, _, _, err := convertRecording(raw)
	return wav, err
}

// promptLibrary is the library of a running server: loaded from the store
// at start, kept up to date by run, and the ivr.Prompts of the dialogue,
// which keeps what every composed prompt said.
type promptLibrary struct {
	lib   *prompts.Library
	store promptStore
	reg   *objections.Register
	log   *zap.Logger

	// kept are the hashes whose playback is in the store; queue hands new
	// ones to run, which writes them.
	mu    sync.Mutex
	kept  map[string]bool
	queue chan prompts.Playback

	missMu   sync.Mutex
	lastMiss time.Time
}

// playbackQueue bounds the playbacks waiting to be kept: a composed prompt
// is only new the first time, so the queue holds a handful at most; when
// the store is slow and it fills, a playback is dropped and kept the next
// time the same prompt is composed.
const playbackQueue = 256

func newPromptLibrary(ctx context.Context, cat *prompts.Catalog, st promptStore, reg *objections.Register, log *zap.Logger) *promptLibrary {
	p := &promptLibrary{store: st, reg: reg, log: log, kept: make(map[string]bool), queue: make(chan prompts.Playback, playbackQueue)}
	p.lib = prompts.NewLibrary(cat, p.miss)
	if err := loadRecordings(ctx, st, p.lib); err != nil {
		// The catalogue plays until the store answers; run tries again.
		log.Warn("prompt audio not loaded from the store; the catalogue plays until it is", zap.Error(err))
	}
	return p
}

// Compose implements ivr.Prompts: the library's playback, whose words
// (and voice) are handed to run to be kept by hash.
func (p *promptLibrary) Compose(lang string, id prompts.ID, vars prompts.Vars) (prompts.Playback, error) {
	pb, err := p.lib.Compose(lang, id, vars)
	if err != nil {
		return pb, err
	}
	p.mu.Lock()
	known := p.kept[pb.Hash]
	p.mu.Unlock()
	if !known {
		select {
		case p.queue <- pb:
		default:
		}
	}
	return pb, nil
}

// miss loads new recordings when a sound is asked for that this instance
// has not loaded: another instance composed it a moment ago (Twilio and
// Asterisk fetch audio from any instance). At most once a second, bounded.
func (p *promptLibrary) miss() {
	p.missMu.Lock()
	defer p.missMu.Unlock()
	if time.Since(p.lastMiss) < time.Second {
		return
	}
	p.lastMiss = time.Now()
	// Sound has no ctx (the adapters look sounds up by name only): the
	// load is bounded here.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := loadRecordings(ctx, p.store, p.lib); err != nil {
		p.log.Warn("prompt audio not loaded from the store", zap.Error(err))
	}
}

// syncInterval is how often run loads what other instances (or `verzet
// prompts record`, `verzet orgs set`) added to the store; nameInterval how
// often it checks that every org's current name is spoken.
const (
	syncInterval = 5 * time.Second
	nameInterval = time.Minute
)

// run keeps the library up to date and keeps the playbacks, until ctx ends.
func (p *promptLibrary) run(ctx context.Context) {
	tick := time.NewTicker(syncInterval)
	defer tick.Stop()
	names := time.NewTimer(0)
	defer names.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case pb := <-p.queue:
			p.keep(ctx, pb)
		case <-tick.C:
			if err := loadRecordings(ctx, p.store, p.lib); err != nil {
				p.log.Warn("prompt audio not loaded from the store", zap.Error(err))
			}
		case <-names.C:
			p.ensureAllNames(ctx)
			names.Reset(nameInterval)
		}
	}
}

// keep writes what pb said to the store, once per hash.
func (p *promptLibrary) keep(ctx context.Context, pb prompts.Playback) {
	p.mu.Lock()
	known := p.kept[pb.Hash]
	p.mu.Unlock()
	if known {
		return
	}
	sounds := make([]string, len(pb.Sounds))
	for i, s := range pb.Sounds {
		sounds[i] = s.Name
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := p.store.PutPromptPlayback(wctx, objections.PromptPlayback{Hash: pb.Hash, Prompt: string(pb.ID), Language: pb.Lang,
		Version: pb.Version, Text: pb.Text, Voice: pb.Voice, Sounds: sounds})
	if err != nil {
		p.log.Warn("prompt playback not kept; kept when it is composed again", zap.String("prompt_id", string(pb.ID)),
			zap.String("lang", pb.Lang), zap.Error(err))
		return
	}
	p.mu.Lock()
	p.kept[pb.Hash] = true
	p.mu.Unlock()
}

// ensureAllNames synthesises the names of orgs set or renamed through the
// API or the UI, which do not synthesise themselves. Only with espeak-ng.
func (p *promptLibrary) ensureAllNames(ctx context.Context) {
	if _, ok := espeak.Available(); !ok {
		return
	}
	orgs, err := p.reg.Store().Orgs(ctx)
	if err != nil {
		p.log.Warn("org names not checked", zap.Error(err))
		return
	}
	for _, o := range orgs {
		vars := orgVars(o)
		if vars.Org == "" || o.Kind == objections.OrgAgency {
			continue
		}
		for _, s := range ensureNames(ctx, p.store, p.lib, o, "serve") {
			if s.Note != "" {
				p.log.Warn("org name not synthesised", zap.String("org", o.ID), zap.String("lang", s.Lang), zap.String("reason", s.Note))
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}
