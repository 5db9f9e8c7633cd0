package prompts

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// DefaultLang is the language of the default catalogue and the usual choice
// for Dutch numbers.
const DefaultLang = "nl"

// Errors returned (wrapped) by Load, Get, Compose and Sound.
var (
	// ErrIncomplete means a catalogue language lacks a file it must have; the
	// error names the language, the prompt and the file.
	ErrIncomplete = errors.New("incomplete catalogue")
	// ErrInvalidText means a prompt or organisation text cannot be used.
	ErrInvalidText = errors.New("invalid prompt text")
	// ErrUnknownLanguage means the catalogue has no such language.
	ErrUnknownLanguage = errors.New("unknown language")
	// ErrUnknownPrompt means an unknown prompt ID, or a catalogue file named
	// after one.
	ErrUnknownPrompt = errors.New("unknown prompt")
	// ErrUnexpectedFile means a catalogue holds a file or folder it must not:
	// a WAV no prompt uses (left over from an earlier text), a folder that is
	// not a language, an organisation file with an invalid ID.
	ErrUnexpectedFile = errors.New("unexpected file")
	// ErrUnknownSound means Catalog.Sound was asked for a name it does not have.
	ErrUnknownSound = errors.New("unknown sound")
	// ErrInvalidKey means Vars names a key that is not a digit 0-9, or the
	// same key for objecting and declining.
	ErrInvalidKey = errors.New("invalid key")
)

// embedded is the reviewed default catalogue (see doc.go for the layout).
// The generate step re-renders its audio from the texts.
//
//go:generate go run ./gen -dir catalog
//go:embed catalog
var embedded embed.FS

// soundsPrefix is the folder below Asterisk's sounds directory that Install
// writes to, and the first element of every Sound.Name.
const soundsPrefix = "verzet"

var (
	langPattern  = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)
	orgIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
)

// maxOrgRunes bounds an organisation name recording's text.
const maxOrgRunes = 100

// Catalog is a loaded, validated prompt catalogue. It is immutable and safe
// for concurrent use.
type Catalog struct {
	langs  map[string]*language
	orgs   map[string]filler // name recordings by org ID
	sounds map[string]Sound  // every sound by Sound.Name
}

// language is one complete language of the catalogue.
type language struct {
	prompts map[ID]Prompt
	org     filler    // generic wording for {org}
	digits  [10]Sound // audio for {key_object}/{key_decline}
}

// filler is placeholder audio together with the words it says.
type filler struct {
	text  string
	sound Sound
}

// Load returns the embedded default catalogue, with the languages and
// organisation name recordings of override (may be nil) on top. Every
// language folder in override replaces the embedded language of that name
// completely, so it must be complete: a missing prompt text or audio file is
// an ErrIncomplete error naming the language, prompt and file. A malformed
// text is ErrInvalidText, a malformed WAV ErrInvalidWAV, a stray file
// ErrUnexpectedFile, a text file not named after a prompt ErrUnknownPrompt,
// all naming the file. The caller passes os.DirFS(dir) for a configured directory; Load
// itself reads no environment.
func Load(override fs.FS) (*Catalog, error) {
	base, err := fs.Sub(embedded, "catalog")
	if err != nil {
		return nil, fmt.Errorf("prompts: open embedded catalogue: %w", err)
	}
	c := &Catalog{
		langs:  make(map[string]*language),
		orgs:   make(map[string]filler),
		sounds: make(map[string]Sound),
	}
	if err := c.add(base); err != nil {
		return nil, fmt.Errorf("prompts: embedded catalogue: %w", err)
	}
	if override != nil {
		if err := c.add(override); err != nil {
			return nil, fmt.Errorf("prompts: override catalogue: %w", err)
		}
	}
	c.index()
	return c, nil
}

// add loads every language folder and the org folder of fsys into c.
func (c *Catalog) add(fsys fs.FS) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("read catalogue root: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case hidden(name) || !e.IsDir():
			continue
		case name == "org":
			if err := c.addOrgs(fsys); err != nil {
				return err
			}
		case !langPattern.MatchString(name):
			return fmt.Errorf("folder %q: %w: not a language tag (like nl or en)", name, ErrUnexpectedFile)
		default:
			l, err := loadLanguage(fsys, name)
			if err != nil {
				return err
			}
			c.langs[name] = l
		}
	}
	return nil
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

func loadLanguage(fsys fs.FS, lang string) (*language, error) {
	entries, err := fs.ReadDir(fsys, lang)
	if err != nil {
		return nil, fmt.Errorf("read language %q: %w", lang, err)
	}
	l := &language{prompts: make(map[ID]Prompt)}
	unused := make(map[string]bool) // .wav files not (yet) claimed by a prompt
	for _, e := range entries {
		name := e.Name()
		p := path.Join(lang, name)
		switch {
		case hidden(name):
		case e.IsDir() && name == "digit":
		case e.IsDir():
			return nil, fmt.Errorf("%s: %w: folder in language %q", p, ErrUnexpectedFile, lang)
		case strings.HasSuffix(name, ".txt"):
			if id := ID(strings.TrimSuffix(name, ".txt")); !id.valid() && id != "org" {
				return nil, fmt.Errorf("%s: %w %q", p, ErrUnknownPrompt, id)
			}
		case strings.HasSuffix(name, ".wav"):
			unused[strings.TrimSuffix(name, ".wav")] = true
		}
	}

	orgText, err := readText(fsys, path.Join(lang, "org.txt"))
	if err != nil {
		return nil, fmt.Errorf("language %q: generic organisation wording: %w", lang, err)
	}
	if err := checkOrgText(orgText); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(lang, "org.txt"), err)
	}
	orgSound, err := readSound(fsys, lang, "org")
	if err != nil {
		return nil, fmt.Errorf("language %q: generic organisation wording: %w", lang, err)
	}
	delete(unused, "org")
	l.org = filler{text: orgText, sound: orgSound}

	for _, id := range IDs() {
		p, err := loadPrompt(fsys, lang, id, orgText)
		if err != nil {
			return nil, fmt.Errorf("language %q prompt %q: %w", lang, id, err)
		}
		for _, f := range p.Fragments {
			delete(unused, path.Base(f.Name))
		}
		l.prompts[id] = p
	}
	if len(unused) > 0 {
		return nil, fmt.Errorf("%s.wav: %w: not used by any prompt of language %q (left over from an earlier text?)",
			path.Join(lang, slices.Min(slices.Collect(maps.Keys(unused)))), ErrUnexpectedFile, lang)
	}

	if err := l.loadDigits(fsys, lang); err != nil {
		return nil, err
	}
	return l, nil
}

func loadPrompt(fsys fs.FS, lang string, id ID, orgText string) (Prompt, error) {
	text, err := readText(fsys, path.Join(lang, string(id)+".txt"))
	if err != nil {
		return Prompt{}, err
	}
	segs, err := parseText(text)
	if err != nil {
		return Prompt{}, fmt.Errorf("%s: %w", path.Join(lang, string(id)+".txt"), err)
	}
	// The offer is the legal core (REQ-3): it must say who stops calling and
	// which key to press, whatever the wording.
	if id == Offer && (!hasSlot(segs, slotOrg) || !hasSlot(segs, slotKeyObject)) {
		return Prompt{}, fmt.Errorf("%s: %w: the offer must contain {org} and {key_object}",
			path.Join(lang, string(id)+".txt"), ErrInvalidText)
	}
	p := Prompt{ID: id, Lang: lang, Text: text, segs: segs, orgText: orgText}
	audio := make([][]byte, 0, len(segs))
	for _, name := range fragmentNames(id, segs) {
		s, err := readSound(fsys, lang, name)
		if err != nil {
			return Prompt{}, err
		}
		p.Fragments = append(p.Fragments, s)
		p.DurationMS += s.DurationMS
		audio = append(audio, s.Audio)
	}
	p.Hash = contentHash("verzet-prompt-v1", text, audio...)
	p.Version = p.Hash[:12]
	return p, nil
}

func hasSlot(segs []segment, s slot) bool {
	return slices.ContainsFunc(segs, func(g segment) bool { return g.slot == s })
}

func (l *language) loadDigits(fsys fs.FS, lang string) error {
	dir := path.Join(lang, "digit")
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if hidden(name) || !strings.HasSuffix(name, ".wav") {
			continue
		}
		if d := strings.TrimSuffix(name, ".wav"); !isKey(d) {
			return fmt.Errorf("%s: %w: want 0.wav … 9.wav", path.Join(dir, name), ErrUnexpectedFile)
		}
	}
	for d := range l.digits {
		s, err := readSound(fsys, dir, fmt.Sprint(d))
		if err != nil {
			return fmt.Errorf("language %q key audio: %w", lang, err)
		}
		l.digits[d] = s
	}
	return nil
}

// addOrgs loads the organisation name recordings org/{orgid}.txt + .wav.
func (c *Catalog) addOrgs(fsys fs.FS) error {
	entries, err := fs.ReadDir(fsys, "org")
	if err != nil {
		return fmt.Errorf("read org: %w", err)
	}
	ids := make(map[string]bool)
	for _, e := range entries {
		name := e.Name()
		ext := path.Ext(name)
		switch {
		case hidden(name) || e.IsDir() || (ext != ".txt" && ext != ".wav"):
			continue
		case !orgIDPattern.MatchString(strings.TrimSuffix(name, ext)):
			return fmt.Errorf("org/%s: %w: organisation ID must match %s", name, ErrUnexpectedFile, orgIDPattern)
		}
		ids[strings.TrimSuffix(name, ext)] = true
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		text, err := readText(fsys, path.Join("org", id+".txt"))
		if err != nil {
			return fmt.Errorf("organisation %q: %w", id, err)
		}
		if err := checkOrgText(text); err != nil {
			return fmt.Errorf("org/%s.txt: %w", id, err)
		}
		s, err := readSound(fsys, "org", id)
		if err != nil {
			return fmt.Errorf("organisation %q: %w", id, err)
		}
		c.orgs[id] = filler{text: text, sound: s}
	}
	return nil
}

func checkOrgText(s string) error {
	switch {
	case s == "" || !utf8.ValidString(s):
		return fmt.Errorf("%w: empty or not UTF-8", ErrInvalidText)
	case strings.ContainsAny(s, "{}\r\n"):
		return fmt.Errorf("%w: braces or line breaks in an organisation name", ErrInvalidText)
	case utf8.RuneCountInString(s) > maxOrgRunes:
		return fmt.Errorf("%w: organisation name longer than %d characters", ErrInvalidText, maxOrgRunes)
	}
	return nil
}

// readText reads a text file; surrounding white space and a byte order
// mark are not part of the text.
func readText(fsys fs.FS, name string) (string, error) {
	b, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: missing %s", ErrIncomplete, name)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff")), nil
}

// readSound reads and validates dir/base.wav.
func readSound(fsys fs.FS, dir, base string) (Sound, error) {
	name := path.Join(dir, base+".wav")
	b, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return Sound{}, fmt.Errorf("%w: missing %s", ErrIncomplete, name)
	}
	if err != nil {
		return Sound{}, fmt.Errorf("read %s: %w", name, err)
	}
	w, err := ParseWAV(b)
	if err != nil {
		return Sound{}, fmt.Errorf("%s: %w", name, err)
	}
	return Sound{Name: path.Join(soundsPrefix, dir, base), Audio: b, DurationMS: w.DurationMS}, nil
}

// index collects every sound of c by name.
func (c *Catalog) index() {
	for _, l := range c.langs {
		for _, p := range l.prompts {
			for _, s := range p.Fragments {
				c.sounds[s.Name] = s
			}
		}
		c.sounds[l.org.sound.Name] = l.org.sound
		for _, s := range l.digits {
			c.sounds[s.Name] = s
		}
	}
	for _, o := range c.orgs {
		c.sounds[o.sound.Name] = o.sound
	}
}

// contentHash is the hex SHA-256 over length-prefixed fields, so that no
// two different field lists hash alike.
func contentHash(scheme, text string, audio ...[]byte) string {
	h := sha256.New()
	writeField(h, []byte(scheme))
	writeField(h, []byte(text))
	for _, a := range audio {
		writeField(h, a)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// Languages returns the catalogue's languages, sorted.
func (c *Catalog) Languages() []string {
	return slices.Sorted(maps.Keys(c.langs))
}

// Get returns prompt id in language lang. It does not fall back to another
// language: the caller chooses the language. Errors: ErrUnknownLanguage,
// ErrUnknownPrompt.
func (c *Catalog) Get(lang string, id ID) (Prompt, error) {
	l, ok := c.langs[lang]
	if !ok {
		return Prompt{}, fmt.Errorf("prompts: get %q in %q: %w", id, lang, ErrUnknownLanguage)
	}
	p, ok := l.prompts[id]
	if !ok {
		return Prompt{}, fmt.Errorf("prompts: get %q in %q: %w", id, lang, ErrUnknownPrompt)
	}
	return p, nil
}

// All returns every prompt of every language, sorted by language, then ID.
func (c *Catalog) All() []Prompt {
	var all []Prompt
	for _, lang := range c.Languages() {
		for _, id := range IDs() {
			all = append(all, c.langs[lang].prompts[id])
		}
	}
	return all
}

// Playback is a prompt as played to one caller: the sounds in order and the
// exact words they say. It is the evidence of what the caller heard
// (REQ-13): store ID, Lang, Version, Hash and Text with the offer record.
type Playback struct {
	// ID and Lang identify the prompt.
	ID   ID
	Lang string
	// Version is the prompt's Version (wording and its own recordings).
	Version string
	// Hash is the hex SHA-256 over Text and every sound played, placeholder
	// audio included: it identifies exactly what was heard.
	Hash string
	// Text is the prompt text as spoken, placeholders filled with the words
	// of the audio actually used.
	Text string
	// Sounds are played back to back, e.g. as one ARI playback with several
	// "sound:" media URIs, or several Twilio <Play> verbs.
	Sounds []Sound
	// Voice, when set, is the provider's text-to-speech voice that speaks
	// Text (Twilio <Say>); Sounds is then empty.
	Voice string
	// DurationMS is the sum of the Sounds' durations: the full playing time,
	// against which "ms played" is measured. For a Voice it is the length
	// of the same prompt's audio, as an estimate.
	DurationMS int64
}

// Compose returns prompt id in lang ready to play: the prompt's fragments
// with the organisation's name recording (or the language's generic
// wording when Vars.OrgID has none) and the key digits in between. Vars.Org
// is not used: the text reports what the audio says. With Vars.Voice the
// prompt is text for that voice instead (see Vars.Voice). Errors:
// ErrUnknownLanguage, ErrUnknownPrompt, ErrInvalidKey.
func (c *Catalog) Compose(lang string, id ID, vars Vars) (Playback, error) {
	p, err := c.Get(lang, id)
	if err != nil {
		return Playback{}, err
	}
	object, decline, err := vars.keys()
	if err != nil {
		return Playback{}, fmt.Errorf("prompts: compose %q in %q: %w", id, lang, err)
	}
	l := c.langs[lang]
	if vars.Voice != "" {
		return l.say(p, vars, object, decline), nil
	}
	org := l.org
	if o, ok := c.orgs[vars.OrgID]; ok {
		org = o
	}
	return l.compose(p, org, object, decline), nil
}

// say is p as a text-to-speech voice speaks it: the text with vars.Org
// filled in, no sounds, and a hash over the text and the voice. Its
// duration is that of the prompt's audio, as an estimate.
func (l *language) say(p Prompt, vars Vars, object, decline string) Playback {
	audio := l.compose(p, l.org, object, decline)
	pb := Playback{ID: p.ID, Lang: p.Lang, Version: p.Version, Text: p.Render(vars), Voice: vars.Voice, DurationMS: audio.DurationMS}
	pb.Hash = contentHash("verzet-say-v1", pb.Text, []byte(pb.Voice))
	return pb
}

// compose joins p's fragments with org's audio and the key digits.
func (l *language) compose(p Prompt, org filler, object, decline string) Playback {
	var text strings.Builder
	var sounds []Sound
	frag := 0
	for _, s := range p.segs {
		switch s.slot {
		case "":
			text.WriteString(s.text)
			if spoken(s.text) {
				sounds = append(sounds, p.Fragments[frag])
				frag++
			}
		case slotOrg:
			text.WriteString(org.text)
			sounds = append(sounds, org.sound)
		case slotKeyObject:
			text.WriteString(object)
			sounds = append(sounds, l.digits[object[0]-'0'])
		case slotKeyDecline:
			text.WriteString(decline)
			sounds = append(sounds, l.digits[decline[0]-'0'])
		}
	}
	return newPlayback(p.ID, p.Lang, p.Version, text.String(), sounds)
}

// newPlayback returns the playback of sounds that say text, with its
// duration and hash.
func newPlayback(id ID, lang, version, text string, sounds []Sound) Playback {
	pb := Playback{ID: id, Lang: lang, Version: version, Text: text, Sounds: sounds}
	audio := make([][]byte, 0, 2*len(sounds))
	for _, s := range sounds {
		audio = append(audio, []byte(s.Name), s.Audio)
		pb.DurationMS += s.DurationMS
	}
	pb.Hash = contentHash("verzet-playback-v1", pb.Text, audio...)
	return pb
}

// Sound returns the sound with the given Sound.Name, e.g. for serving it to
// Twilio over HTTP. Errors: ErrUnknownSound.
func (c *Catalog) Sound(name string) (Sound, error) {
	s, ok := c.sounds[name]
	if !ok {
		return Sound{}, fmt.Errorf("prompts: sound %q: %w", name, ErrUnknownSound)
	}
	return s, nil
}

// SoundNames returns the name (Sound.Name) of every sound of the
// catalogue, sorted: what a node must be able to play.
func (c *Catalog) SoundNames() []string {
	return slices.Sorted(maps.Keys(c.sounds))
}

// Install writes every sound of the catalogue below dir (Asterisk's sounds
// directory) as dir/{Sound.Name}.wav, e.g. dir/verzet/nl/offer-1.wav, so
// that "sound:verzet/nl/offer-1" plays it. Files that already have the
// right content are left alone, so Install is idempotent; others are
// replaced atomically. Files it did not write are not removed. Errors are
// the file system's, wrapped with the sound's name.
func (c *Catalog) Install(dir string) error {
	for _, name := range slices.Sorted(maps.Keys(c.sounds)) {
		if err := installSound(dir, c.sounds[name]); err != nil {
			return err
		}
	}
	return nil
}

func installSound(dir string, s Sound) error {
	if err := installFile(filepath.Join(dir, filepath.FromSlash(s.Name)+".wav"), s.Audio); err != nil {
		return fmt.Errorf("prompts: install %s: %w", s.Name, err)
	}
	return nil
}

func installFile(dst string, b []byte) error {
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), ".verzet-*.wav")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op once renamed
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dst)
}
