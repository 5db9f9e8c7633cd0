package prompts

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// tone returns ms of a 440 Hz tone at amplitude amp (0..1) as 8 kHz samples.
func tone(ms int, amp float64) []int16 {
	s := make([]int16, ms*SampleRate/1000)
	for i := range s {
		s[i] = int16(amp * 32767 * math.Sin(2*math.Pi*440*float64(i)/SampleRate))
	}
	return s
}

// addRec makes a recording with lib.NewRecording and adds it as the next
// revision.
func addRec(t *testing.T, lib *Library, org string, id ID, lang string, src Source, template string, vars Vars, audio []byte) Recording {
	t.Helper()
	r, err := lib.NewRecording(org, id, lang, src, template, vars, audio)
	if err != nil {
		t.Fatalf("NewRecording(%q, %q, %q): %v", org, id, lang, err)
	}
	lib.mu.RLock()
	r.Revision = len(lib.recs[recKey{org, id, lang}]) + 1
	r.Seq = lib.seq + 1
	lib.mu.RUnlock()
	lib.Add(r)
	return r
}

func soundNames(pb Playback) []string {
	var out []string
	for _, s := range pb.Sounds {
		out = append(out, s.Name)
	}
	return out
}

func TestLibraryNameAudio(t *testing.T) {
	lib := NewLibrary(mustLoad(t, nil), nil)
	acme := Vars{OrgID: "acme", Org: "Acme Goede Doelen"}

	// No name audio yet: the generic wording, and the text says so.
	pb, err := lib.Compose("nl", Offer, acme)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pb.Text, "deze organisatie") || !slices.Contains(soundNames(pb), "verzet/nl/org") {
		t.Fatalf("without name audio: %q %v", pb.Text, soundNames(pb))
	}
	generic := pb.Hash

	name := addRec(t, lib, "acme", OrgName, "nl", Synthetic, "", acme, EncodeWAV(tone(800, 0.5)))
	for _, id := range []ID{Offer, Confirm} {
		pb, err := lib.Compose("nl", id, acme)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(pb.Text, "Acme Goede Doelen") || !slices.Contains(soundNames(pb), name.Sound().Name) {
			t.Fatalf("%s with name audio: %q %v", id, pb.Text, soundNames(pb))
		}
		if id == Offer && pb.Hash == generic {
			t.Fatal("the hash does not cover the name audio")
		}
	}
	// English has no name audio of its own: generic wording there.
	if pb, _ := lib.Compose("en", Offer, acme); !strings.Contains(pb.Text, "this organisation") {
		t.Fatalf("en: %q", pb.Text)
	}

	// Renamed: the old name's audio is not played any more.
	renamed := Vars{OrgID: "acme", Org: "Acme Fonds"}
	pb, _ = lib.Compose("nl", Offer, renamed)
	if strings.Contains(pb.Text, "Acme Goede Doelen") || slices.Contains(soundNames(pb), name.Sound().Name) {
		t.Fatalf("after the rename: %q %v", pb.Text, soundNames(pb))
	}
	fonds := addRec(t, lib, "acme", OrgName, "nl", Synthetic, "", renamed, EncodeWAV(tone(700, 0.5)))
	pb, _ = lib.Compose("nl", Offer, renamed)
	if !strings.Contains(pb.Text, "Acme Fonds") || !slices.Contains(soundNames(pb), fonds.Sound().Name) {
		t.Fatalf("new name: %q %v", pb.Text, soundNames(pb))
	}

	// A recorded name wins over a synthetic one.
	rec := addRec(t, lib, "acme", OrgName, "nl", Recorded, "", renamed, EncodeWAV(tone(600, 0.4)))
	fonds2 := addRec(t, lib, "acme", OrgName, "nl", Synthetic, "", renamed, EncodeWAV(tone(650, 0.5)))
	pb, _ = lib.Compose("nl", Offer, renamed)
	if !slices.Contains(soundNames(pb), rec.Sound().Name) || slices.Contains(soundNames(pb), fonds2.Sound().Name) {
		t.Fatalf("recorded name: %v", soundNames(pb))
	}

	// Another org is not touched.
	pb, _ = lib.Compose("nl", Offer, Vars{OrgID: "beta", Org: "Beta"})
	if !strings.Contains(pb.Text, "deze organisatie") {
		t.Fatalf("beta: %q", pb.Text)
	}
	if s, err := lib.Sound(rec.Sound().Name); err != nil || len(s.Audio) == 0 {
		t.Fatalf("Sound(%s): %v", rec.Sound().Name, err)
	}
}

func TestLibraryRecordedPrompt(t *testing.T) {
	lib := NewLibrary(mustLoad(t, nil), nil)
	acme := Vars{OrgID: "acme", Org: "Acme Goede Doelen"}
	beta := Vars{OrgID: "beta", Org: "Beta"}
	before := map[string]Playback{}
	for _, v := range []Vars{acme, beta} {
		for _, id := range IDs() {
			pb, err := lib.Compose("nl", id, v)
			if err != nil {
				t.Fatal(err)
			}
			before[v.OrgID+"/"+string(id)] = pb
		}
	}
	r := addRec(t, lib, "acme", Offer, "nl", Recorded, "", acme, EncodeWAV(tone(5000, 0.5)))
	if want := "Niet meer gebeld worden door Acme Goede Doelen?"; !strings.HasPrefix(r.Text, want) {
		t.Fatalf("recording text %q", r.Text)
	}
	for _, v := range []Vars{acme, beta} {
		for _, id := range IDs() {
			pb, _ := lib.Compose("nl", id, v)
			old := before[v.OrgID+"/"+string(id)]
			changed := pb.Hash != old.Hash || pb.Version != old.Version
			if want := v.OrgID == "acme" && id == Offer; changed != want {
				t.Errorf("%s %s: changed %v, want %v", v.OrgID, id, changed, want)
			}
		}
	}
	pb, _ := lib.Compose("nl", Offer, acme)
	if pb.Version != r.Version() || pb.Text != r.Text || len(pb.Sounds) != 1 || pb.Sounds[0].Name != r.Sound().Name || pb.DurationMS != 5000 {
		t.Fatalf("recorded offer: %+v", pb)
	}
	// A new recording is a new version.
	r2 := addRec(t, lib, "acme", Offer, "nl", Recorded, "", acme, EncodeWAV(tone(4000, 0.5)))
	if pb2, _ := lib.Compose("nl", Offer, acme); pb2.Version != r2.Version() || pb2.Hash == pb.Hash {
		t.Fatalf("second recording: %s", pb2.Version)
	}
	// Keys changed, or the org renamed: the recording says the wrong
	// thing and the catalogue plays instead.
	for _, v := range []Vars{{OrgID: "acme", Org: "Acme Goede Doelen", KeyObject: "5"}, {OrgID: "acme", Org: "Acme Fonds"}} {
		pb, _ := lib.Compose("nl", Offer, v)
		if pb.Version == r2.Version() {
			t.Errorf("%+v: the outdated recording plays", v)
		}
	}
	es := lib.Entries(Vars{OrgID: "acme", Org: "Acme Fonds"})
	i := slices.IndexFunc(es, func(e Entry) bool { return e.ID == Offer && e.Lang == "nl" })
	if es[i].Source != FromCatalogue || !strings.Contains(es[i].Unused, "recorded r2") {
		t.Fatalf("entry after the rename: %+v", es[i])
	}
	es = lib.Entries(acme)
	i = slices.IndexFunc(es, func(e Entry) bool { return e.ID == Offer && e.Lang == "nl" })
	if es[i].Source != Recorded || es[i].Revision != 2 || es[i].Version != r2.Version() {
		t.Fatalf("entry: %+v", es[i])
	}
}

func TestLibraryGlobalRecording(t *testing.T) {
	lib := NewLibrary(mustLoad(t, nil), nil)
	r := addRec(t, lib, "", Goodbye, "nl", Recorded, "", Vars{}, EncodeWAV(tone(900, 0.5)))
	for _, org := range []string{"acme", "beta", ""} {
		pb, _ := lib.Compose("nl", Goodbye, Vars{OrgID: org})
		if pb.Version != r.Version() {
			t.Errorf("%q: %s", org, pb.Version)
		}
	}
	// An org's own recording beats the global one.
	own := addRec(t, lib, "acme", Goodbye, "nl", Recorded, "", Vars{OrgID: "acme", Org: "Acme"}, EncodeWAV(tone(800, 0.5)))
	if pb, _ := lib.Compose("nl", Goodbye, Vars{OrgID: "acme", Org: "Acme"}); pb.Version != own.Version() {
		t.Errorf("own: %s", pb.Version)
	}
	if _, err := lib.NewRecording("", Offer, "nl", Recorded, "", Vars{}, EncodeWAV(tone(900, 0.5))); !errors.Is(err, ErrInvalidText) {
		t.Errorf("global offer: %v", err)
	}
	if _, err := lib.NewRecording("acme", Offer, "nl", Recorded, "Bel ons niet.", Vars{Org: "Acme"}, EncodeWAV(tone(900, 0.5))); !errors.Is(err, ErrInvalidText) {
		t.Errorf("offer without {org}: %v", err)
	}
	if _, err := lib.NewRecording("acme", Offer, "xx", Recorded, "", Vars{Org: "Acme"}, EncodeWAV(tone(900, 0.5))); !errors.Is(err, ErrUnknownLanguage) {
		t.Errorf("unknown language: %v", err)
	}
	if _, err := lib.NewRecording("acme", "welcome", "nl", Recorded, "", Vars{Org: "Acme"}, EncodeWAV(tone(900, 0.5))); !errors.Is(err, ErrUnknownPrompt) {
		t.Errorf("unknown prompt: %v", err)
	}
}

func TestLibraryVoice(t *testing.T) {
	lib := NewLibrary(mustLoad(t, nil), nil)
	addRec(t, lib, "acme", Offer, "nl", Recorded, "", Vars{OrgID: "acme", Org: "Acme Goede Doelen"}, EncodeWAV(tone(5000, 0.5)))
	lotte, err := lib.Compose("nl", Offer, Vars{OrgID: "acme", Org: "Acme Goede Doelen", Voice: "Polly.Lotte"})
	if err != nil {
		t.Fatal(err)
	}
	if lotte.Voice != "Polly.Lotte" || len(lotte.Sounds) != 0 || !strings.Contains(lotte.Text, "Acme Goede Doelen") || lotte.DurationMS == 0 {
		t.Fatalf("voice: %+v", lotte)
	}
	other, _ := lib.Compose("nl", Offer, Vars{OrgID: "acme", Org: "Acme Goede Doelen", Voice: "Google.nl-NL-Wavenet-A"})
	if other.Hash == lotte.Hash || other.Text != lotte.Text {
		t.Fatal("the hash does not cover the voice")
	}
}

func TestLibrarySoundMiss(t *testing.T) {
	lib := NewLibrary(mustLoad(t, nil), nil)
	r, err := lib.NewRecording("acme", OrgName, "nl", Synthetic, "", Vars{Org: "Acme"}, EncodeWAV(tone(500, 0.5)))
	if err != nil {
		t.Fatal(err)
	}
	r.Revision, r.Seq = 1, 7
	misses := 0
	lib.onMiss = func() { misses++; lib.Add(r) }
	if _, err := lib.Sound(r.Sound().Name); err != nil || misses != 1 {
		t.Fatalf("miss: %v, %d", err, misses)
	}
	if _, err := lib.Sound("verzet/store/nothing"); !errors.Is(err, ErrUnknownSound) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := lib.Sound("verzet/nl/offer-1"); err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	if lib.Seq() != 7 {
		t.Fatalf("seq %d", lib.Seq())
	}
}

func TestCleanAudio(t *testing.T) {
	silence := make([]int16, SampleRate) // 1 s
	speech := tone(600, 0.1)
	in := slices.Concat(silence, speech, silence)
	out, lv, err := CleanAudio(in)
	if err != nil {
		t.Fatal(err)
	}
	if lv.TrimmedMS[0] < 900 || lv.TrimmedMS[1] < 900 {
		t.Fatalf("trimmed %v", lv.TrimmedMS)
	}
	want := int64(600 + 2*edgeKeepMS + leadPadMS + tailPadMS)
	if lv.DurationMS < want-20 || lv.DurationMS > want+20 {
		t.Fatalf("duration %d, want about %d", lv.DurationMS, want)
	}
	peak := 0
	for _, s := range out {
		peak = max(peak, int(math.Abs(float64(s))))
	}
	if db := dbfs(float64(peak)); db < -3.5 || db > -2.5 {
		t.Fatalf("peak %.1f dBFS, want -3", db)
	}
	if _, err := ParseWAV(EncodeWAV(out)); err != nil {
		t.Fatal(err)
	}

	for name, c := range map[string]struct {
		in   []int16
		want error
	}{
		"silent":    {silence, ErrTooQuiet},
		"near":      {slices.Concat(silence, tone(800, 0.002)), ErrTooQuiet},
		"short":     {slices.Concat(silence, tone(50, 0.5), silence), ErrTooShort},
		"too short": {tone(5, 0.5), ErrTooShort},
	} {
		if _, _, err := CleanAudio(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestSamplesRoundTrip(t *testing.T) {
	in := tone(100, 0.3)
	got, err := Samples(EncodeWAV(in))
	if err != nil || !slices.Equal(got, in) {
		t.Fatalf("round trip: %v", err)
	}
}
