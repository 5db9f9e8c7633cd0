package prompts

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// OrgName is the {org} placeholder as a prompt of its own, for audio kept
// in a Library: an organisation's name as spoken (a Recording with an
// Org), or the generic wording for every org (a Recording without one).
const OrgName ID = "org"

// Source says where a prompt's audio comes from.
type Source string

// Sources.
const (
	// FromCatalogue is the reviewed audio that ships with verzet (or
	// VERZET_PROMPTS_DIR).
	FromCatalogue Source = "catalogue"
	// Synthetic audio was made by a speech synthesiser (espeak-ng) when the
	// organisation was set or renamed.
	Synthetic Source = "synthetic"
	// Recorded audio was recorded by a person and brought in with
	// `verzet prompts record`.
	Recorded Source = "recorded"
)

// storePrefix starts the Sound.Name of every Recording:
// verzet/store/{hash}, the same on every instance.
const storePrefix = soundsPrefix + "/store/"

// Recording is audio kept outside the catalogue (in verzet's store) that a
// Library plays instead of the catalogue's: an organisation's name
// (ID OrgName), or one prompt recorded as a whole for one organisation or
// for all. Make one with Library.NewRecording; a store hands them back to
// Library.Add.
type Recording struct {
	// Seq orders recordings as the store added them.
	Seq int64
	// Org is the organisation it is for; "" means every organisation.
	Org string
	// ID is the prompt it replaces, or OrgName.
	ID   ID
	Lang string
	// Revision counts the recordings of (Org, ID, Lang) from 1.
	Revision int
	Source   Source
	// Template is the prompt text the recording says, with its
	// placeholders ("" for OrgName); Text is what it says. A recording is
	// played only while its Template, filled for the call, still gives
	// Text: a recorded offer that names "Acme" is not played after the org
	// was renamed, nor after its objection key changed.
	Template string
	Text     string
	// Audio is an 8 kHz mono 16-bit WAV file.
	Audio      []byte
	DurationMS int64
	// Hash is the hex SHA-256 over Template, Text and Audio.
	Hash      string
	CreatedAt time.Time
}

// Version is the recording's prompt version: the first 12 hex digits of
// Hash, as Prompt.Version is of a catalogue prompt.
func (r Recording) Version() string { return r.Hash[:12] }

// Sound is the recording as a sound to play.
func (r Recording) Sound() Sound {
	return Sound{Name: storePrefix + r.Hash[:32], Audio: r.Audio, DurationMS: r.DurationMS}
}

// Library is the catalogue with the recordings kept in verzet's store on
// top: organisations' names as spoken, and prompts recorded for one
// organisation or for all. It composes what a call hears (Compose) and
// serves every sound by name (Sound). Safe for concurrent use; Add may be
// called at any time, e.g. by a loop that loads new recordings from the
// store.
type Library struct {
	cat    *Catalog
	onMiss func()

	mu     sync.RWMutex
	seq    int64
	recs   map[recKey][]Recording // by Revision, ascending
	sounds map[string]Sound       // recordings' sounds by name
}

type recKey struct {
	org  string
	id   ID
	lang string
}

// NewLibrary returns a library over cat without recordings. onMiss, when
// not nil, is called (and waited for) when Sound is asked for a recording
// it does not have: another instance may have added it a moment ago, so
// onMiss should load new recordings (Add) and return.
func NewLibrary(cat *Catalog, onMiss func()) *Library {
	return &Library{cat: cat, onMiss: onMiss, recs: make(map[recKey][]Recording), sounds: make(map[string]Sound)}
}

// Catalog returns the library's catalogue.
func (l *Library) Catalog() *Catalog { return l.cat }

// Languages returns the catalogue's languages, sorted.
func (l *Library) Languages() []string { return l.cat.Languages() }

// Get returns the catalogue's prompt id in lang (see Catalog.Get).
func (l *Library) Get(lang string, id ID) (Prompt, error) { return l.cat.Get(lang, id) }

// Seq is the highest Recording.Seq added: load what is newer.
func (l *Library) Seq() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.seq
}

// Add adds recordings; one already added (the same Org, ID, Lang and
// Revision) is ignored.
func (l *Library) Add(recs ...Recording) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range recs {
		k := recKey{r.Org, r.ID, r.Lang}
		list := l.recs[k]
		i, found := slices.BinarySearchFunc(list, r.Revision, func(x Recording, rev int) int { return x.Revision - rev })
		if found {
			continue
		}
		l.recs[k] = slices.Insert(list, i, r)
		s := r.Sound()
		l.sounds[s.Name] = s
		l.seq = max(l.seq, r.Seq)
	}
}

// NewRecording checks audio as a recording of prompt id (or OrgName) in
// lang, for org ("" for every org), and returns it with its words and
// hash; Seq, Revision and CreatedAt are the store's to set.
//
// For OrgName, template is the words spoken: "" means vars.Org (the org's
// display name) for an org, the language's generic wording for every org.
// For a prompt, template is the wording recorded, with placeholders; ""
// means the catalogue's text of the prompt. The recording's Text is
// template filled with vars (the org's display name and keys), so a
// recording for one org says its name and keys, and a recording for every
// org must not contain {org}. The offer must contain {org} and
// {key_object}, as in the catalogue.
//
// Errors: ErrUnknownLanguage, ErrUnknownPrompt, ErrInvalidText,
// ErrInvalidKey, ErrInvalidWAV.
func (l *Library) NewRecording(org string, id ID, lang string, source Source, template string, vars Vars, audio []byte) (Recording, error) {
	lg, ok := l.cat.langs[lang]
	if !ok {
		return Recording{}, fmt.Errorf("prompts: recording of %q in %q: %w", id, lang, ErrUnknownLanguage)
	}
	if org != "" && !orgIDPattern.MatchString(org) {
		return Recording{}, fmt.Errorf("prompts: recording for organisation %q: %w: not an organisation ID", org, ErrInvalidText)
	}
	w, err := ParseWAV(audio)
	if err != nil {
		return Recording{}, fmt.Errorf("prompts: recording of %q in %q: %w", id, lang, err)
	}
	r := Recording{Org: org, ID: id, Lang: lang, Source: source, Audio: audio, DurationMS: w.DurationMS}
	switch {
	case id == OrgName:
		r.Text = strings.TrimSpace(template)
		if r.Text == "" && org != "" {
			r.Text = vars.Org
		}
		if r.Text == "" {
			r.Text = lg.org.text
		}
		if err := checkOrgText(r.Text); err != nil {
			return Recording{}, fmt.Errorf("prompts: name of %q in %q: %w", org, lang, err)
		}
	case id.valid():
		if template == "" {
			template = lg.prompts[id].Text
		}
		segs, err := parseText(template)
		if err != nil {
			return Recording{}, fmt.Errorf("prompts: recording of %q in %q: %w", id, lang, err)
		}
		if id == Offer && (!hasSlot(segs, slotOrg) || !hasSlot(segs, slotKeyObject)) {
			return Recording{}, fmt.Errorf("prompts: recording of %q in %q: %w: the offer must contain {org} and {key_object}", id, lang, ErrInvalidText)
		}
		if hasSlot(segs, slotOrg) {
			if org == "" {
				return Recording{}, fmt.Errorf("prompts: recording of %q in %q: %w: the prompt names the organisation, so it is recorded per organisation",
					id, lang, ErrInvalidText)
			}
			if vars.Org == "" {
				return Recording{}, fmt.Errorf("prompts: recording of %q in %q for %q: %w: the organisation has no display name to say",
					id, lang, org, ErrInvalidText)
			}
		}
		if _, _, err := vars.keys(); err != nil {
			return Recording{}, fmt.Errorf("prompts: recording of %q in %q: %w", id, lang, err)
		}
		r.Template = template
		r.Text = render(segs, vars.Org, vars)
	default:
		return Recording{}, fmt.Errorf("prompts: recording of %q: %w", id, ErrUnknownPrompt)
	}
	r.Hash = contentHash("verzet-recording-v1", r.Text, []byte(r.Template), audio)
	return r, nil
}

// fits reports whether r still says what a call with vars must hear.
func (r Recording) fits(vars Vars) bool {
	if r.ID == OrgName {
		return r.Org == "" || r.Text == vars.Org
	}
	segs, err := parseText(r.Template)
	return err == nil && render(segs, vars.Org, vars) == r.Text
}

// latest returns the newest recording of k that fits vars, from source
// when source is not "".
func (l *Library) latest(k recKey, source Source, vars Vars) (Recording, bool) {
	list := l.recs[k]
	for i := len(list) - 1; i >= 0; i-- {
		if (source == "" || list[i].Source == source) && list[i].fits(vars) {
			return list[i], true
		}
	}
	return Recording{}, false
}

// override returns the recording that replaces prompt id for the call:
// the org's own, else one for every org.
func (l *Library) override(lang string, id ID, vars Vars) (Recording, bool) {
	if vars.OrgID != "" {
		if r, ok := l.latest(recKey{vars.OrgID, id, lang}, "", vars); ok {
			return r, true
		}
	}
	return l.latest(recKey{"", id, lang}, "", vars)
}

// nameAudio returns the audio of {org} for the call and where it comes
// from: the org's recorded name, its name in the catalogue's org folder,
// its synthesised name, the generic wording recorded for every org, or the
// language's generic wording. Name audio that does not say vars.Org (an
// earlier name) is skipped; without vars.Org the org folder's recording
// plays as Catalog.Compose plays it.
func (l *Library) nameAudio(lang string, vars Vars) (filler, Source, *Recording) {
	k := recKey{vars.OrgID, OrgName, lang}
	if vars.OrgID != "" && vars.Org != "" {
		if r, ok := l.latest(k, Recorded, vars); ok {
			return filler{text: r.Text, sound: r.Sound()}, Recorded, &r
		}
	}
	if o, ok := l.cat.orgs[vars.OrgID]; ok && vars.OrgID != "" && (vars.Org == "" || o.text == vars.Org) {
		return o, FromCatalogue, nil
	}
	if vars.OrgID != "" && vars.Org != "" {
		if r, ok := l.latest(k, Synthetic, vars); ok {
			return filler{text: r.Text, sound: r.Sound()}, Synthetic, &r
		}
	}
	if r, ok := l.latest(recKey{"", OrgName, lang}, "", vars); ok {
		return filler{text: r.Text, sound: r.Sound()}, r.Source, &r
	}
	return l.cat.langs[lang].org, FromCatalogue, nil
}

// Compose returns prompt id in lang as the call hears it. With
// vars.Voice the provider speaks the catalogue's text, vars.Org filled in
// (see Vars.Voice). Otherwise a recording that replaces the prompt for
// vars.OrgID (or for every org) and still says the right words is played
// whole; else the catalogue's fragments are joined with the org's name
// audio (see nameAudio) and the key digits. Playback.Text is what the
// audio says, and Playback.Hash covers it and every sound, the name
// included. Errors: ErrUnknownLanguage, ErrUnknownPrompt, ErrInvalidKey.
func (l *Library) Compose(lang string, id ID, vars Vars) (Playback, error) {
	p, err := l.cat.Get(lang, id)
	if err != nil {
		return Playback{}, err
	}
	object, decline, err := vars.keys()
	if err != nil {
		return Playback{}, fmt.Errorf("prompts: compose %q in %q: %w", id, lang, err)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	lg := l.cat.langs[lang]
	if vars.Voice != "" {
		return lg.say(p, vars, object, decline), nil
	}
	if r, ok := l.override(lang, id, vars); ok {
		return newPlayback(id, lang, r.Version(), r.Text, []Sound{r.Sound()}), nil
	}
	org, _, _ := l.nameAudio(lang, vars)
	return lg.compose(p, org, object, decline), nil
}

// Sound returns the sound with the given Sound.Name: the catalogue's, or
// a recording's. A recording's name it does not know is asked of onMiss
// once. Errors: ErrUnknownSound.
func (l *Library) Sound(name string) (Sound, error) {
	if s, err := l.cat.Sound(name); err == nil {
		return s, nil
	}
	if !strings.HasPrefix(name, storePrefix) {
		return Sound{}, fmt.Errorf("prompts: sound %q: %w", name, ErrUnknownSound)
	}
	if s, ok := l.storeSound(name); ok {
		return s, nil
	}
	if l.onMiss != nil {
		l.onMiss()
		if s, ok := l.storeSound(name); ok {
			return s, nil
		}
	}
	return Sound{}, fmt.Errorf("prompts: sound %q: %w", name, ErrUnknownSound)
}

func (l *Library) storeSound(name string) (Sound, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	s, ok := l.sounds[name]
	return s, ok
}

// Sounds returns every sound of the catalogue and every recording, sorted
// by name: what Asterisk must be able to play (Install).
func (l *Library) Sounds() []Sound {
	l.mu.RLock()
	all := maps.Clone(l.sounds)
	l.mu.RUnlock()
	maps.Copy(all, l.cat.sounds)
	out := make([]Sound, 0, len(all))
	for _, name := range slices.Sorted(maps.Keys(all)) {
		out = append(out, all[name])
	}
	return out
}

// Install writes every sound of the library below dir, as Catalog.Install
// does: recordings as dir/verzet/store/{hash}.wav.
func (l *Library) Install(dir string) error {
	for _, s := range l.Sounds() {
		if err := installSound(dir, s); err != nil {
			return err
		}
	}
	return nil
}

// Entry describes what one prompt in one language is for an organisation
// (or for every organisation): where its audio comes from and which
// version plays.
type Entry struct {
	ID   ID
	Lang string
	// Source is where the audio comes from; Revision is the store's version
	// number of a recording (0 for the catalogue).
	Source   Source
	Revision int
	// Version and Hash identify the prompt's own audio and words: the
	// catalogue prompt's, or the recording's.
	Version, Hash string
	DurationMS    int64
	// Text is what it says, the org's name and keys filled in.
	Text string
	// Unused, when not empty, describes the newest recording that is not
	// played because it no longer says the right words (the org was
	// renamed, or its keys changed), e.g. `recorded r2 says "Acme"`.
	Unused string
}

// Entries lists, for each language and each prompt (then OrgName), what
// an organisation's calls hear: vars names the org (OrgID, Org, keys);
// an empty OrgID lists what every organisation hears.
func (l *Library) Entries(vars Vars) []Entry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Entry
	for _, lang := range l.cat.Languages() {
		lg := l.cat.langs[lang]
		for _, id := range IDs() {
			p := lg.prompts[id]
			e := Entry{ID: id, Lang: lang, Source: FromCatalogue, Version: p.Version, Hash: p.Hash, DurationMS: p.DurationMS, Text: p.Render(vars)}
			if r, ok := l.override(lang, id, vars); ok {
				e = recEntry(r)
			}
			e.Unused = l.unused(recKey{vars.OrgID, id, lang}, vars, e)
			out = append(out, e)
		}
		org, src, rec := l.nameAudio(lang, vars)
		h := contentHash("verzet-recording-v1", org.text, nil, org.sound.Audio)
		e := Entry{ID: OrgName, Lang: lang, Source: src, Version: h[:12], Hash: h, DurationMS: org.sound.DurationMS, Text: org.text}
		if rec != nil {
			e = recEntry(*rec)
		}
		if vars.OrgID != "" {
			e.Unused = l.unused(recKey{vars.OrgID, OrgName, lang}, vars, e)
		}
		out = append(out, e)
	}
	return out
}

func recEntry(r Recording) Entry {
	return Entry{ID: r.ID, Lang: r.Lang, Source: r.Source, Revision: r.Revision, Version: r.Version(), Hash: r.Hash,
		DurationMS: r.DurationMS, Text: r.Text}
}

// unused describes the newest recording of k when it is not the one e
// shows because it does not fit vars.
func (l *Library) unused(k recKey, vars Vars, e Entry) string {
	list := l.recs[k]
	if len(list) == 0 {
		return ""
	}
	r := list[len(list)-1]
	if r.Hash == e.Hash || r.fits(vars) {
		return ""
	}
	return fmt.Sprintf("%s r%d says %q", r.Source, r.Revision, r.Text)
}
