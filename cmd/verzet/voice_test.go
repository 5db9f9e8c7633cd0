package main

import (
	"bytes"
	"context"
	le "encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/telephony/ari/aritest"
)

// stereoWAV is a 44.1 kHz stereo 16-bit recording as an organisation
// brings it: half a second of silence, seconds of a voice-like tone, half
// a second of silence.
func stereoWAV(seconds float64) []byte {
	const rate = 44100
	n := int((seconds + 1) * rate)
	data := make([]byte, 0, n*4)
	for i := range n {
		t := float64(i) / rate
		v := 0.0
		if t >= 0.5 && t < 0.5+seconds {
			v = 0.3 * math.Sin(2*math.Pi*220*t) * (0.6 + 0.4*math.Sin(2*math.Pi*3*t))
		}
		s := uint16(int16(v * 32767))
		data = le.LittleEndian.AppendUint16(data, s)
		data = le.LittleEndian.AppendUint16(data, s)
	}
	var w bytes.Buffer
	w.WriteString("RIFF")
	_ = le.Write(&w, le.LittleEndian, uint32(36+len(data)))
	w.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(2), uint32(rate), uint32(rate * 4), uint16(4), uint16(16)} {
		_ = le.Write(&w, le.LittleEndian, v)
	}
	w.WriteString("data")
	_ = le.Write(&w, le.LittleEndian, uint32(len(data)))
	w.Write(data)
	return w.Bytes()
}

// nameSound is the sound name (verzet/store/…, without the last 16 hex
// digits) of org's name audio in lang, from `prompts list --org`, and the
// words it says.
func nameSound(t *testing.T, env []string, org, lang string) (string, string) {
	t.Helper()
	row := promptRow(t, env, org, "org", lang)
	if row[2] == "catalogue" {
		t.Fatalf("org %s has no name audio in %s: %v", org, lang, row)
	}
	return "verzet/store/" + row[6], strings.Join(row[7:], " ")
}

// promptRow is the row of prompt id in lang of `prompts list --org org`,
// split in fields: ID LANG SOURCE REV VERSION SECONDS HASH TEXT….
func promptRow(t *testing.T, env []string, org, id, lang string) []string {
	t.Helper()
	out, errOut, code := run(t, env, "prompts", "list", "--org", org)
	if code != 0 {
		t.Fatalf("prompts list --org %s: %d %s", org, code, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 7 && f[0] == id && f[1] == lang {
			return f
		}
	}
	t.Fatalf("prompts list --org %s has no %s %s:\n%s", org, id, lang, out)
	return nil
}

// The done-when of "The caller hears who called": on Twilio and on
// Asterisk the offer and the confirmation say the advertiser's display
// name (its synthesised name audio, or a Twilio voice's text), also on an
// agency's call, per language, and the new name after a rename; the offer
// evidence shows the words with the name; a 44.1 kHz stereo recording
// replaces acme's Dutch offer alone, is served as 8 kHz mono, and changes
// the prompt version and hash of the next offer record.
func TestOrganisationNameSpoken(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			initStore(t, env)
			out, errOut, code := run(t, env, "orgs", "set", "callcenter1", "--name", "Callcenter Eén", "--kind", "agency")
			if code != 0 {
				t.Fatalf("orgs set callcenter1: %d %s %s", code, out, errOut)
			}
			out, errOut, code = run(t, env, "orgs", "set", "acme", "--name", "Acme Goede Doelen", "--sector", "charity", "--agency", "callcenter1")
			for _, want := range []string{`name in nl: synthetic audio says "Acme Goede Doelen"`, `name in en: synthetic audio says "Acme Goede Doelen"`} {
				if code != 0 || !strings.Contains(out, want) {
					t.Fatalf("orgs set acme: %d, want %q:\n%s%s", code, want, out, errOut)
				}
			}
			out, errOut, code = run(t, env, "orgs", "set", "beta", "--name", "Beta Fonds", "--sector", "charity", "--twilio-voice", "nl=Polly.Lotte")
			if code != 0 || !strings.Contains(out, "Twilio voices: nl=Polly.Lotte") {
				t.Fatalf("orgs set beta: %d %s %s", code, out, errOut)
			}
			acmeNL, said := nameSound(t, env, "acme", "nl")
			acmeEN, _ := nameSound(t, env, "acme", "en")
			if said != "Acme Goede Doelen" || acmeNL == acmeEN {
				t.Fatalf("name audio: %s %s %q", acmeNL, acmeEN, said)
			}

			const app = "verzet-voice"
			env, public, fake := serveTwilioAndARI(t, env, app, 90*time.Second)

			twilioCall := func(args ...string) string {
				t.Helper()
				out, errOut, code := run(t, env, append([]string{"simulate", "twilio", "--url", public, "--to", "0612345678", "--keys", "1"}, args...)...)
				if code != 0 {
					t.Fatalf("twilio call %v: %d\n%s\n%s", args, code, out, errOut)
				}
				return out
			}
			// played is what an ARI call heard: the media of each playback.
			number := 0
			ariCall := func(vars map[string]string) [][]string {
				t.Helper()
				number++
				vars["VERZET_NUMBER"] = "06876543" + string(rune('0'+number/10)) + string(rune('0'+number%10))
				id, err := fake.StartCall(app, aritest.Call{Vars: vars})
				if err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "offer", func() bool { ch, _ := fake.Channel(id); return ch.Playing != "" })
				if err := fake.Press(id, "1"); err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "hang-up", func() bool { ch, _ := fake.Channel(id); return ch.HungUpBy == "app" })
				ch, _ := fake.Channel(id)
				return ch.Played
			}
			hasName := func(media []string, sound string) bool {
				return slices.ContainsFunc(media, func(m string) bool { return strings.HasPrefix(m, "sound:"+sound) })
			}

			// Twilio, an agency's call for acme: the advertiser's name audio
			// in the offer and in the confirmation, Dutch and English.
			for lang, sound := range map[string]string{"nl": acmeNL, "en": acmeEN} {
				tr := twilioCall("--org", "acme", "--agency", "callcenter1", "--lang", lang)
				short := strings.TrimPrefix(sound, "verzet/")
				if n := strings.Count(tr, "Play "+short); n != 2 || strings.Contains(tr, "(?)") {
					t.Fatalf("twilio %s: the name audio %s plays %d times (want offer and confirmation), or a sound was not served:\n%s", lang, short, n, tr)
				}
			}
			// Twilio with beta's voice: <Say> with the name, in Dutch.
			tr := twilioCall("--org", "beta")
			for _, want := range []string{`Say [Polly.Lotte nl-NL] "Niet meer gebeld worden door Beta Fonds?`, `gebeld door Beta Fonds. Tot ziens."`} {
				if !strings.Contains(tr, want) {
					t.Fatalf("twilio beta lacks %q:\n%s", want, tr)
				}
			}
			// ARI, an agency's call for acme.
			played := ariCall(map[string]string{"VERZET_ORG": "acme", "VERZET_AGENCY": "callcenter1"})
			if len(played) < 2 || !hasName(played[0], acmeNL) || !hasName(played[len(played)-1], acmeNL) {
				t.Fatalf("ari: the name audio %s is not in the offer and the confirmation: %v", acmeNL, played)
			}
			confirmBefore := played[len(played)-1]
			played = ariCall(map[string]string{"VERZET_ORG": "acme", "VERZET_LANG": "en"})
			if !hasName(played[0], acmeEN) || !hasName(played[len(played)-1], acmeEN) {
				t.Fatalf("ari en: %v", played)
			}
			betaBefore := ariCall(map[string]string{"VERZET_ORG": "beta"})[0]

			// The evidence of acme's first calls shows the words with the name.
			tok, _, code := run(t, env, "tokens", "create", "--role", "supervisor", "--name", "sup")
			if code != 0 {
				t.Fatal("tokens create")
			}
			get := func(path string, v any) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, public+path, nil)
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
				}
			}
			var list struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			get("/v1/objections?org=acme", &list)
			if len(list.Items) == 0 {
				t.Fatal("no objections for acme")
			}
			waitUntil(t, "the offer's words in the evidence", func() bool {
				var ev struct {
					Evidence struct {
						Prompt struct{ Text string } `json:"prompt"`
					} `json:"evidence"`
				}
				get("/v1/objections/"+list.Items[0].ID, &ev)
				text := ev.Evidence.Prompt.Text
				return strings.Contains(text, "door Acme Goede Doelen?") || strings.Contains(text, "calls from Acme Goede Doelen,")
			})

			// Renamed: the next calls say the new name, never the old one.
			out, errOut, code = run(t, env, "orgs", "set", "acme", "--name", "Acme Fonds", "--sector", "charity")
			if code != 0 || !strings.Contains(out, `name in nl: synthetic audio says "Acme Fonds"`) {
				t.Fatalf("rename: %d %s %s", code, out, errOut)
			}
			renamed, _ := nameSound(t, env, "acme", "nl")
			waitUntil(t, "the new name on Twilio", func() bool {
				tr := twilioCall("--org", "acme", "--agency", "callcenter1")
				return strings.Count(tr, "Play "+strings.TrimPrefix(renamed, "verzet/")) == 2
			})
			played = ariCall(map[string]string{"VERZET_ORG": "acme"})
			if !hasName(played[0], renamed) || hasName(played[0], acmeNL) || !hasName(played[len(played)-1], renamed) {
				t.Fatalf("ari after the rename: %v", played)
			}
			confirmBefore = played[len(played)-1]
			offerBefore := lastOffer(t, env, "acme")

			// acme records its own Dutch offer: 44.1 kHz stereo.
			file := filepath.Join(t.TempDir(), "offer-acme.wav")
			if err := os.WriteFile(file, stereoWAV(4), 0o644); err != nil {
				t.Fatal(err)
			}
			out, errOut, code = run(t, env, "prompts", "record", "offer", "--lang", "nl", "--org", "acme", file)
			if code != 0 || !strings.Contains(out, "recorded offer in nl for org acme: r1") || !strings.Contains(out, "44.1 kHz stereo 16-bit") ||
				!strings.Contains(out, "says: Niet meer gebeld worden door Acme Fonds?") {
				t.Fatalf("prompts record: %d %s %s", code, out, errOut)
			}
			row := promptRow(t, env, "acme", "offer", "nl")
			if row[2] != "recorded" || row[3] != "r1" {
				t.Fatalf("prompts list after the recording: %v", row)
			}
			recorded := "verzet/store/" + row[6]
			var media []string
			waitUntil(t, "the recording on Asterisk", func() bool {
				media = ariCall(map[string]string{"VERZET_ORG": "acme"})[0]
				return len(media) == 1 && strings.HasPrefix(media[0], "sound:"+recorded)
			})
			played = ariCall(map[string]string{"VERZET_ORG": "acme"})
			if !slices.Equal(played[len(played)-1], confirmBefore) {
				t.Errorf("the confirmation changed: %v, was %v", played[len(played)-1], confirmBefore)
			}
			if got := ariCall(map[string]string{"VERZET_ORG": "beta"})[0]; !slices.Equal(got, betaBefore) {
				t.Errorf("beta's offer changed: %v, was %v", got, betaBefore)
			}
			// Served converted: 8 kHz mono 16-bit, trimmed to about 4 s.
			resp, err := http.Get(public + "/prompts/" + strings.TrimPrefix(strings.TrimPrefix(media[0], "sound:"), "verzet/") + ".wav")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			w, err := prompts.ParseWAV(body)
			if resp.StatusCode != http.StatusOK || err != nil || w.SampleRate != 8000 || w.Channels != 1 || w.DurationMS < 4000 || w.DurationMS > 4400 {
				t.Fatalf("served recording: %d %+v %v", resp.StatusCode, w, err)
			}
			after := lastOffer(t, env, "acme")
			if after.PromptVersion == offerBefore.PromptVersion || after.PromptHash == offerBefore.PromptHash || !strings.HasPrefix(row[6], after.PromptVersion) {
				t.Fatalf("offer record: version %s hash %s, before %s %s (recording %s)", after.PromptVersion, after.PromptHash,
					offerBefore.PromptVersion, offerBefore.PromptHash, row[4])
			}

			// An admin of acme uploads acme's English offer as MP3 over the
			// API; an admin of beta may not; a text file is refused by name.
			admin, _, _ := run(t, env, "tokens", "create", "--role", "admin", "--name", "acme-admin", "--org", "acme")
			betaAdmin, _, _ := run(t, env, "tokens", "create", "--role", "admin", "--name", "beta-admin", "--org", "beta")
			mp3, err := os.ReadFile("../../prompts/beep/testdata/tone-440hz-44k1-stereo.mp3")
			if err != nil {
				t.Fatal(err)
			}
			put := func(bearer, path string, body []byte) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodPut, public+path, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(bearer))
				req.Header.Set("Content-Type", "audio/mpeg")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			if code, body := put(betaAdmin, "/v1/prompts/offer/en?org=acme", mp3); code != http.StatusForbidden {
				t.Fatalf("beta's admin records acme's offer: %d %s", code, body)
			}
			if code, body := put(admin, "/v1/prompts/offer/en?org=acme", []byte("not audio at all")); code != http.StatusBadRequest ||
				!strings.Contains(body, `"field":"audio"`) || !strings.Contains(body, "neither a WAV nor an MP3") {
				t.Fatalf("a text file: %d %s", code, body)
			}
			code, upload := put(admin, "/v1/prompts/offer/en?org=acme", mp3)
			var rec struct {
				Source   string `json:"source"`
				Revision int    `json:"revision"`
				Hash     string `json:"hash"`
				From     string `json:"from"`
				Org      string `json:"org"`
			}
			if code != http.StatusOK || json.Unmarshal([]byte(upload), &rec) != nil || rec.Source != "recorded" || rec.Org != "acme" ||
				!strings.HasPrefix(rec.From, "MP3 44.1 kHz") {
				t.Fatalf("MP3 upload: %d %s", code, upload)
			}
			if row := promptRow(t, env, "acme", "offer", "en"); row[2] != "recorded" || !strings.HasPrefix(rec.Hash, row[6]) {
				t.Fatalf("prompts list after the upload: %v, uploaded %s", row, rec.Hash)
			}
			waitUntil(t, "the MP3 recording on Asterisk", func() bool {
				media = ariCall(map[string]string{"VERZET_ORG": "acme", "VERZET_LANG": "en"})[0]
				return len(media) == 1 && strings.HasPrefix(media[0], "sound:verzet/store/"+rec.Hash[:16])
			})
			if played := ariCall(map[string]string{"VERZET_ORG": "acme"}); slices.Equal(played[0], media) {
				t.Errorf("the English recording plays in Dutch too: %v", played[0])
			}
		})
	}
}

type offerRow struct {
	Org           string `json:"org"`
	Provider      string `json:"provider"`
	PromptVersion string `json:"prompt_version"`
	PromptHash    string `json:"prompt_hash"`
	Language      string `json:"language"`
}

// lastOffer is org's latest Dutch ARI offer record.
func lastOffer(t *testing.T, env []string, org string) offerRow {
	t.Helper()
	out, errOut, code := run(t, env, "offers", "list", "--json", "--org", org)
	var offers []offerRow
	if code != 0 || json.Unmarshal([]byte(out), &offers) != nil {
		t.Fatalf("offers list: %d %s %s", code, out, errOut)
	}
	for i := len(offers) - 1; i >= 0; i-- {
		if o := offers[i]; o.Provider == "ari" && o.Language == "nl" {
			return o
		}
	}
	t.Fatalf("no ari offer for %s:\n%s", org, out)
	return offerRow{}
}

// The UI's timeline shows the words kept by the offer's prompt hash: the
// org's name, and the voice that spoke them.
func TestPromptTexterKeptWords(t *testing.T) {
	ctx := context.Background()
	st, err := openStore(ctx, StoreConfig{DataDir: t.TempDir()}, createStore)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := prompts.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	lib := prompts.NewLibrary(cat, nil)
	pb, err := lib.Compose("nl", prompts.Offer, prompts.Vars{OrgID: "acme", Org: "Acme Goede Doelen", Voice: "Polly.Lotte"})
	if err != nil {
		t.Fatal(err)
	}
	pl := &promptLibrary{store: st.Prompts, kept: map[string]bool{}}
	pl.keep(ctx, pb)
	texter := promptTexter(cat, st.Register, st.Prompts)
	off := objections.Offer{Org: "acme", PromptID: "offer", Language: "nl", PromptVersion: pb.Version, PromptHash: pb.Hash}
	got, ok := texter(ctx, off)
	if want := "Niet meer gebeld worden door Acme Goede Doelen? Druk op 1. Het is gratis, zonder gegevens, en geldt meteen. Druk anders op 2. (spoken by Polly.Lotte)"; !ok || !got.Verified || got.Text != want {
		t.Fatalf("texter: %+v %v, want %q", got, ok, want)
	}
	api := promptTexts{cat, st.Prompts}
	if text, ok := api.PromptText(ctx, off); !ok || !strings.Contains(text, "Acme Goede Doelen") {
		t.Fatalf("API: %q %v", text, ok)
	}
	// An offer of another hash falls back to the catalogue.
	off.PromptHash = strings.Repeat("0", 64)
	if text, ok := api.PromptText(ctx, off); !ok || !strings.Contains(text, "{org}") {
		t.Fatalf("API without kept words: %q %v", text, ok)
	}
}
