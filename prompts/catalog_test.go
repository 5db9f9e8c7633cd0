package prompts

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func mustLoad(tb testing.TB, override fs.FS) *Catalog {
	tb.Helper()
	c, err := Load(override)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return c
}

// embeddedFS returns a writable copy of the embedded catalogue.
func embeddedFS(tb testing.TB) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(embedded, "catalog", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(embedded, p)
		m[strings.TrimPrefix(p, "catalog/")] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// langFS returns an override holding language to, a copy of the embedded
// language from.
func langFS(tb testing.TB, from, to string) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	for name, f := range embeddedFS(tb) {
		if rest, ok := strings.CutPrefix(name, from+"/"); ok {
			m[path.Join(to, rest)] = f
		}
	}
	return m
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// orgFS is an override with one organisation name recording.
func orgFS() fstest.MapFS {
	return fstest.MapFS{
		"org/voorbeeld.txt": file("Voorbeeld Goede Doelen\n"),
		"org/voorbeeld.wav": {Data: testWAV(900, 7)},
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name      string
		override  func(testing.TB) fs.FS
		wantLangs []string
	}{
		{"embedded only", func(testing.TB) fs.FS { return nil }, []string{"en", "nl"}},
		{"empty override", func(testing.TB) fs.FS { return fstest.MapFS{} }, []string{"en", "nl"}},
		{"complete new language", func(tb testing.TB) fs.FS { return langFS(tb, "en", "fr") }, []string{"en", "fr", "nl"}},
		{"region subtag", func(tb testing.TB) fs.FS { return langFS(tb, "nl", "nl-be") }, []string{"en", "nl", "nl-be"}},
		{"complete replacement", func(tb testing.TB) fs.FS { return langFS(tb, "en", "nl") }, []string{"en", "nl"}},
		{"organisation recording only", func(testing.TB) fs.FS { return orgFS() }, []string{"en", "nl"}},
		{"hidden, draft and loose files ignored", func(tb testing.TB) fs.FS {
			m := langFS(tb, "en", "fr")
			m["README.md"] = file("notes")
			m[".git/config"] = file("x")
			m["_drafts/offer.txt"] = file("{")
			m["fr/.DS_Store"] = file("x")
			m["fr/NOTES.md"] = file("x")
			m["org/README"] = file("x")
			return m
		}, []string{"en", "fr", "nl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.override(t))
			if got := c.Languages(); !slices.Equal(got, tc.wantLangs) {
				t.Errorf("Languages = %q, want %q", got, tc.wantLangs)
			}
			if got, want := len(c.All()), len(tc.wantLangs)*len(IDs()); got != want {
				t.Errorf("len(All) = %d, want %d", got, want)
			}
		})
	}
}

func TestLoadReplacesLanguage(t *testing.T) {
	c := mustLoad(t, langFS(t, "en", "nl"))
	p, err := c.Get("nl", Goodbye)
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "Thank you. Goodbye." || p.Lang != "nl" {
		t.Errorf("nl goodbye = %q (%s), want the English text from the override", p.Text, p.Lang)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m fstest.MapFS)
		wantIs error
		wantIn []string
	}{
		{"missing prompt text", func(m fstest.MapFS) { delete(m, "fr/offer.txt") },
			ErrIncomplete, []string{`language "fr"`, `prompt "offer"`, "missing fr/offer.txt"}},
		{"missing prompt audio", func(m fstest.MapFS) { delete(m, "fr/offer-2.wav") },
			ErrIncomplete, []string{`language "fr"`, `prompt "offer"`, "missing fr/offer-2.wav"}},
		{"missing single-piece audio", func(m fstest.MapFS) { delete(m, "fr/goodbye.wav") },
			ErrIncomplete, []string{`language "fr"`, `prompt "goodbye"`, "missing fr/goodbye.wav"}},
		{"missing digit", func(m fstest.MapFS) { delete(m, "fr/digit/7.wav") },
			ErrIncomplete, []string{`language "fr"`, "missing fr/digit/7.wav"}},
		{"missing generic org text", func(m fstest.MapFS) { delete(m, "fr/org.txt") },
			ErrIncomplete, []string{`language "fr"`, "missing fr/org.txt"}},
		{"missing generic org audio", func(m fstest.MapFS) { delete(m, "fr/org.wav") },
			ErrIncomplete, []string{`language "fr"`, "missing fr/org.wav"}},
		{"partial replacement of nl", func(m fstest.MapFS) { m["nl/offer.txt"] = m["fr/offer.txt"] },
			ErrIncomplete, []string{`language "nl"`, "missing nl/"}},
		{"garbage WAV", func(m fstest.MapFS) { m["fr/goodbye.wav"] = file("not a wav") },
			ErrInvalidWAV, []string{"fr/goodbye.wav", "not a RIFF/WAVE"}},
		{"WAV at 16 kHz", func(m fstest.MapFS) {
			m["fr/invalid.wav"] = &fstest.MapFile{Data: riff(fmtChunk(1, 1, 16000, 16), chunk("data", make([]byte, 32)))}
		}, ErrInvalidWAV, []string{"fr/invalid.wav", "sample rate 16000"}},
		{"bad digit WAV", func(m fstest.MapFS) { m["fr/digit/0.wav"] = file("RIFF") },
			ErrInvalidWAV, []string{"fr/digit/0.wav"}},
		{"unknown placeholder", func(m fstest.MapFS) { m["fr/goodbye.txt"] = file("Bye {name}.") },
			ErrInvalidText, []string{"fr/goodbye.txt", "{name}"}},
		{"offer without org", func(m fstest.MapFS) { m["fr/offer.txt"] = file("Press {key_object}.") },
			ErrInvalidText, []string{"fr/offer.txt", "{org}"}},
		{"offer without key", func(m fstest.MapFS) { m["fr/offer.txt"] = file("Object to {org}?") },
			ErrInvalidText, []string{"fr/offer.txt", "{key_object}"}},
		{"two-line text", func(m fstest.MapFS) { m["fr/repeat.txt"] = file("Again.\nAgain.") },
			ErrInvalidText, []string{"fr/repeat.txt", "more than one line"}},
		{"empty text", func(m fstest.MapFS) { m["fr/repeat.txt"] = file("\n") },
			ErrInvalidText, []string{"fr/repeat.txt", "empty"}},
		{"empty generic org text", func(m fstest.MapFS) { m["fr/org.txt"] = file(" ") },
			ErrInvalidText, []string{"fr/org.txt"}},
		{"misspelt prompt file", func(m fstest.MapFS) { m["fr/ofer.txt"] = file("x") },
			ErrUnknownPrompt, []string{"fr/ofer.txt"}},
		{"stale fragment", func(m fstest.MapFS) { m["fr/goodbye-1.wav"] = m["fr/goodbye.wav"] },
			ErrUnexpectedFile, []string{"fr/goodbye-1.wav"}},
		{"unknown folder in language", func(m fstest.MapFS) { m["fr/old/offer.wav"] = m["fr/goodbye.wav"] },
			ErrUnexpectedFile, []string{"fr/old"}},
		{"extra digit file", func(m fstest.MapFS) { m["fr/digit/star.wav"] = m["fr/digit/1.wav"] },
			ErrUnexpectedFile, []string{"fr/digit/star.wav"}},
		{"folder that is no language", func(m fstest.MapFS) { m["Dutch/offer.txt"] = m["fr/offer.txt"] },
			ErrUnexpectedFile, []string{`"Dutch"`}},
		{"org text without audio", func(m fstest.MapFS) { m["org/acme.txt"] = file("Acme") },
			ErrIncomplete, []string{`organisation "acme"`, "missing org/acme.wav"}},
		{"org audio without text", func(m fstest.MapFS) { m["org/acme.wav"] = m["fr/goodbye.wav"] },
			ErrIncomplete, []string{`organisation "acme"`, "missing org/acme.txt"}},
		{"org text with placeholder", func(m fstest.MapFS) {
			m["org/acme.txt"] = file("{org}")
			m["org/acme.wav"] = m["fr/goodbye.wav"]
		}, ErrInvalidText, []string{"org/acme.txt"}},
		{"bad org WAV", func(m fstest.MapFS) {
			m["org/acme.txt"] = file("Acme")
			m["org/acme.wav"] = file("RIFF????WAVE")
		}, ErrInvalidWAV, []string{"org/acme.wav"}},
		{"invalid org ID", func(m fstest.MapFS) { m["org/Acme BV.txt"] = file("Acme") },
			ErrUnexpectedFile, []string{"org/Acme BV.txt"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := langFS(t, "en", "fr")
			tc.mutate(m)
			c, err := Load(m)
			if c != nil || !errors.Is(err, tc.wantIs) {
				t.Fatalf("Load = %v, %v; want nil, %v", c, err, tc.wantIs)
			}
			for _, s := range append(tc.wantIn, "prompts: override catalogue: ") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestGetErrors(t *testing.T) {
	c := mustLoad(t, nil)
	tests := []struct {
		name string
		lang string
		id   ID
		want error
	}{
		{"unknown language", "de", Offer, ErrUnknownLanguage},
		{"no fallback for region", "nl-be", Offer, ErrUnknownLanguage},
		{"empty language", "", Offer, ErrUnknownLanguage},
		{"unknown prompt", "nl", "welcome", ErrUnknownPrompt},
		{"generic org wording is no prompt", "nl", "org", ErrUnknownPrompt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Get(tc.lang, tc.id); !errors.Is(err, tc.want) {
				t.Errorf("Get(%q, %q) error = %v, want %v", tc.lang, tc.id, err, tc.want)
			}
			if _, err := c.Compose(tc.lang, tc.id, Vars{}); !errors.Is(err, tc.want) {
				t.Errorf("Compose(%q, %q) error = %v, want %v", tc.lang, tc.id, err, tc.want)
			}
		})
	}
}

func TestCompose(t *testing.T) {
	c := mustLoad(t, orgFS())
	tests := []struct {
		name       string
		lang       string
		id         ID
		vars       Vars
		wantText   string
		wantSounds []string
	}{
		{"offer, generic org, default keys", "nl", Offer, Vars{Org: "Wordt niet gebruikt"},
			"Niet meer gebeld worden door deze organisatie? Druk op 1. Het is gratis, zonder gegevens, en geldt meteen. Druk anders op 2.",
			[]string{"verzet/nl/offer-1", "verzet/nl/org", "verzet/nl/offer-2", "verzet/nl/digit/1", "verzet/nl/offer-3", "verzet/nl/digit/2"}},
		{"offer, org recording", "nl", Offer, Vars{OrgID: "voorbeeld"},
			"Niet meer gebeld worden door Voorbeeld Goede Doelen? Druk op 1. Het is gratis, zonder gegevens, en geldt meteen. Druk anders op 2.",
			[]string{"verzet/nl/offer-1", "verzet/org/voorbeeld", "verzet/nl/offer-2", "verzet/nl/digit/1", "verzet/nl/offer-3", "verzet/nl/digit/2"}},
		{"offer, unknown org ID falls back to generic wording", "nl", Offer, Vars{OrgID: "onbekend", KeyObject: "9", KeyDecline: "0"},
			"Niet meer gebeld worden door deze organisatie? Druk op 9. Het is gratis, zonder gegevens, en geldt meteen. Druk anders op 0.",
			[]string{"verzet/nl/offer-1", "verzet/nl/org", "verzet/nl/offer-2", "verzet/nl/digit/9", "verzet/nl/offer-3", "verzet/nl/digit/0"}},
		{"English offer ends on a placeholder", "en", Offer, Vars{OrgID: "voorbeeld"},
			"To stop marketing calls from Voorbeeld Goede Doelen, press 1. It is free, you give no details, and it works at once. Otherwise, press 2.",
			[]string{"verzet/en/offer-1", "verzet/org/voorbeeld", "verzet/en/offer-2", "verzet/en/digit/1", "verzet/en/offer-3", "verzet/en/digit/2"}},
		{"confirm", "nl", Confirm, Vars{},
			"Uw bezwaar is vastgelegd en geldt meteen. U wordt niet meer gebeld door deze organisatie. Tot ziens.",
			[]string{"verzet/nl/confirm-1", "verzet/nl/org", "verzet/nl/confirm-2"}},
		{"no placeholders", "en", Goodbye, Vars{OrgID: "voorbeeld"}, "Thank you. Goodbye.", []string{"verzet/en/goodbye"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pb, err := c.Compose(tc.lang, tc.id, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			var total int64
			for _, s := range pb.Sounds {
				names = append(names, s.Name)
				total += s.DurationMS
			}
			if pb.Text != tc.wantText || !slices.Equal(names, tc.wantSounds) {
				t.Errorf("Compose = %q %q,\nwant %q %q", pb.Text, names, tc.wantText, tc.wantSounds)
			}
			p, _ := c.Get(tc.lang, tc.id)
			if pb.ID != tc.id || pb.Lang != tc.lang || pb.Version != p.Version || pb.DurationMS != total || len(pb.Hash) != 64 {
				t.Errorf("Compose metadata = %+v", pb)
			}
		})
	}
}

func TestComposeInvalidKeys(t *testing.T) {
	c := mustLoad(t, nil)
	for _, vars := range []Vars{{KeyObject: "*"}, {KeyObject: "2"}, {KeyDecline: "10"}} {
		if _, err := c.Compose("nl", Offer, vars); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Compose(%+v) error = %v, want ErrInvalidKey", vars, err)
		}
	}
}

// TestComposeMatchesRender: with the generic wording, the composed text is
// the rendered text, for every prompt.
func TestComposeMatchesRender(t *testing.T) {
	c := mustLoad(t, nil)
	for _, p := range c.All() {
		pb, err := c.Compose(p.Lang, p.ID, Vars{KeyObject: "5", KeyDecline: "6"})
		if err != nil {
			t.Fatal(err)
		}
		if want := p.Render(Vars{KeyObject: "5", KeyDecline: "6"}); pb.Text != want {
			t.Errorf("%s/%s: Compose text %q, Render %q", p.Lang, p.ID, pb.Text, want)
		}
	}
}

func TestComposeHash(t *testing.T) {
	c := mustLoad(t, orgFS())
	hash := func(vars Vars) string {
		pb, err := c.Compose("nl", Offer, vars)
		if err != nil {
			t.Fatal(err)
		}
		return pb.Hash
	}
	base := hash(Vars{})
	tests := []struct {
		name     string
		vars     Vars
		wantSame bool
	}{
		{"same vars", Vars{}, true},
		{"explicit default keys", Vars{KeyObject: "1", KeyDecline: "2"}, true},
		{"display name is not played", Vars{Org: "Iets Anders"}, true},
		{"org recording", Vars{OrgID: "voorbeeld"}, false},
		{"other object key", Vars{KeyObject: "3"}, false},
		{"swapped keys", Vars{KeyObject: "2", KeyDecline: "1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hash(tc.vars); (got == base) != tc.wantSame {
				t.Errorf("hash %s vs base %s: same = %v, want %v", got, base, got == base, tc.wantSame)
			}
		})
	}
}

func TestVersionStable(t *testing.T) {
	a, b := mustLoad(t, nil), mustLoad(t, embeddedFS(t))
	for i, p := range a.All() {
		q := b.All()[i]
		if p.Version != q.Version || p.Hash != q.Hash {
			t.Errorf("%s/%s: version %s/%s on a second load, %s/%s", p.Lang, p.ID, p.Version, p.Hash, q.Version, q.Hash)
		}
		if len(p.Hash) != 64 || p.Version != p.Hash[:12] {
			t.Errorf("%s/%s: version %q, hash %q", p.Lang, p.ID, p.Version, p.Hash)
		}
	}
}

func TestVersionChanges(t *testing.T) {
	before, err := mustLoad(t, nil).Get("nl", Goodbye)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		mutate   func(m fstest.MapFS)
		wantSame bool
	}{
		{"unchanged copy", func(fstest.MapFS) {}, true},
		{"trailing white space and BOM", func(m fstest.MapFS) { m["nl/goodbye.txt"] = file("\ufeffDank u wel. Tot ziens.\r\n\n") }, true},
		{"changed text", func(m fstest.MapFS) { m["nl/goodbye.txt"] = file("Dank u. Tot ziens.") }, false},
		{"changed punctuation", func(m fstest.MapFS) { m["nl/goodbye.txt"] = file("Dank u wel, tot ziens.") }, false},
		{"changed audio", func(m fstest.MapFS) { m["nl/goodbye.wav"] = &fstest.MapFile{Data: testWAV(500, 3)} }, false},
		{"other prompt changed", func(m fstest.MapFS) { m["nl/invalid.txt"] = file("Die toets ken ik niet.") }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := langFS(t, "nl", "nl")
			tc.mutate(m)
			after, err := mustLoad(t, m).Get("nl", Goodbye)
			if err != nil {
				t.Fatal(err)
			}
			if same := after.Version == before.Version && after.Hash == before.Hash; same != tc.wantSame {
				t.Errorf("version %s → %s: same = %v, want %v", before.Version, after.Version, same, tc.wantSame)
			}
		})
	}
}

func TestSound(t *testing.T) {
	c := mustLoad(t, orgFS())
	for _, name := range []string{"verzet/nl/offer-1", "verzet/en/digit/0", "verzet/nl/org", "verzet/org/voorbeeld"} {
		s, err := c.Sound(name)
		if err != nil || s.Name != name || len(s.Audio) == 0 {
			t.Errorf("Sound(%q) = %q, %d bytes, %v", name, s.Name, len(s.Audio), err)
		}
	}
	for _, name := range []string{"verzet/nl/offer", "nl/offer-1", "verzet/nl/offer-1.wav", ""} {
		if _, err := c.Sound(name); !errors.Is(err, ErrUnknownSound) {
			t.Errorf("Sound(%q) error = %v, want ErrUnknownSound", name, err)
		}
	}
}

func TestInstall(t *testing.T) {
	c := mustLoad(t, orgFS())
	dir := t.TempDir()
	if err := c.Install(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for name, s := range c.sounds {
		want[filepath.FromSlash(name)+".wav"] = s.Audio
	}
	checkTree := func() {
		t.Helper()
		got := map[string]bool{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			got[rel] = true
			b, err := os.ReadFile(p)
			if string(b) != string(want[rel]) {
				t.Errorf("%s: unexpected content (%d bytes)", rel, len(b))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("installed %d files, want %d", len(got), len(want))
		}
	}
	checkTree()
	for _, f := range []string{"verzet/nl/offer-1.wav", "verzet/en/goodbye.wav", "verzet/nl/digit/1.wav", "verzet/org/voorbeeld.wav"} {
		if _, ok := want[filepath.FromSlash(f)]; !ok {
			t.Errorf("%s not installed", f)
		}
	}

	// A second run leaves correct files alone and repairs changed ones.
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	kept := filepath.Join(dir, "verzet", "nl", "offer-1.wav")
	broken := filepath.Join(dir, "verzet", "en", "goodbye.wav")
	if err := os.Chtimes(kept, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte("old recording"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Install(dir); err != nil {
		t.Fatal(err)
	}
	checkTree()
	if fi, err := os.Stat(kept); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("unchanged file was rewritten: %v, %v", fi.ModTime(), err)
	}
}

func TestInstallError(t *testing.T) {
	dir := t.TempDir()
	// A file where a folder must go.
	if err := os.WriteFile(filepath.Join(dir, "verzet"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mustLoad(t, nil).Install(dir); err == nil || !strings.Contains(err.Error(), "prompts: install verzet/") {
		t.Errorf("Install error = %v, want one naming the sound", err)
	}
}

// TestGolden renders the whole embedded catalogue; review the diff of
// testdata/catalog.golden whenever a text or a recording changes.
func TestGolden(t *testing.T) {
	c := mustLoad(t, nil)
	var b strings.Builder
	b.WriteString("# Rendered prompt catalogue (go test ./prompts -run TestGolden -update).\n")
	b.WriteString("# rendered: Prompt.Render for org \"Voorbeeld Goede Doelen\";\n")
	b.WriteString("# played:   Catalog.Compose without an org recording (what the audio says).\n")
	for _, p := range c.All() {
		pb, err := c.Compose(p.Lang, p.ID, Vars{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range pb.Sounds {
			names = append(names, fmt.Sprintf("%s(%d)", s.Name, s.DurationMS))
		}
		fmt.Fprintf(&b, "\n%s %s version=%s duration_ms=%d\n", p.Lang, p.ID, p.Version, pb.DurationMS)
		fmt.Fprintf(&b, "  text:     %s\n", p.Text)
		fmt.Fprintf(&b, "  rendered: %s\n", p.Render(Vars{Org: "Voorbeeld Goede Doelen"}))
		fmt.Fprintf(&b, "  played:   %s\n", pb.Text)
		fmt.Fprintf(&b, "  sounds:   %s\n", strings.Join(names, " "))
	}
	golden := filepath.Join("testdata", "catalog.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("rendered catalogue differs from %s (run with -update and review the diff):\n%s", golden, b.String())
	}
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{"Ik herhaal:", "{org} {key_object}{key_decline}.", "Door {org} gebeld.", "{", "", "a\nb", "\ufeff x \n"} {
		f.Add(s, testWAV(20, 1))
	}
	f.Add("Dank u.", []byte("RIFF"))
	base := langFS(f, "en", "fr")
	f.Fuzz(func(t *testing.T, text string, wav []byte) {
		m := fstest.MapFS{}
		for k, v := range base {
			if !strings.HasPrefix(k, "fr/repeat") {
				m[k] = v
			}
		}
		m["fr/repeat.txt"] = file(text)
		m["fr/goodbye.wav"] = &fstest.MapFile{Data: wav}
		segs, textErr := parseText(strings.TrimSpace(strings.TrimPrefix(text, "\ufeff")))
		if textErr == nil {
			for _, name := range fragmentNames(Repeat, segs) {
				m["fr/"+name+".wav"] = &fstest.MapFile{Data: testWAV(10, 2)}
			}
		}
		_, wavErr := ParseWAV(wav)

		c, err := Load(m)
		if (err == nil) != (textErr == nil && wavErr == nil) {
			t.Fatalf("Load error %v; text error %v, WAV error %v", err, textErr, wavErr)
		}
		if err != nil {
			return
		}
		p, err := c.Get("fr", Repeat)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := c.Compose("fr", Repeat, Vars{})
		if err != nil {
			t.Fatal(err)
		}
		if want := p.Render(Vars{}); pb.Text != want {
			t.Fatalf("Compose text %q, Render %q", pb.Text, want)
		}
		again := mustLoad(t, m)
		if q, _ := again.Get("fr", Repeat); q.Hash != p.Hash {
			t.Fatalf("hash not stable: %s, %s", p.Hash, q.Hash)
		}
	})
}
