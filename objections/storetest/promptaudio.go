package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/verzet/verzet/objections"
)

// PromptStore keeps prompt audio (organisations' names, recordings that
// replace a prompt) and the evidence of what composed prompts said, as
// cmd/verzet's prompt library uses it.
type PromptStore interface {
	AddPromptAudio(ctx context.Context, a objections.PromptAudio) (objections.PromptAudio, error)
	PromptAudios(ctx context.Context, after int64) ([]objections.PromptAudio, error)
	PutPromptPlayback(ctx context.Context, p objections.PromptPlayback) error
	PromptPlayback(ctx context.Context, hash string) (objections.PromptPlayback, error)
}

// RunPromptAudio runs the prompt audio suite against the store open
// returns.
func RunPromptAudio(t *testing.T, open func(t *testing.T) PromptStore) {
	suite[PromptStore]{
		{"Versions", testPromptAudioVersions},
		{"Invalid", testPromptAudioInvalid},
		{"Playbacks", testPromptPlaybacks},
	}.run(t, open)
}

func audioRow(org, prompt, lang, source, text string, wav []byte) objections.PromptAudio {
	sum := sha256.Sum256(append([]byte(text), wav...))
	return objections.PromptAudio{Org: org, Prompt: prompt, Language: lang, Source: source, Text: text,
		Hash: hex.EncodeToString(sum[:]), DurationMS: int64(len(wav) / 16), WAV: wav, CreatedBy: "test", CreatedAt: t0}
}

func testPromptAudioVersions(t *testing.T, s PromptStore) {
	ctx := context.Background()
	wav1, wav2 := bytes.Repeat([]byte{1, 2}, 800), bytes.Repeat([]byte{3, 4}, 1600)
	a1, err := s.AddPromptAudio(ctx, audioRow("acme", "org", "nl", objections.PromptSynthetic, "Acme", wav1))
	if err != nil {
		t.Fatal(err)
	}
	if a1.Version != 1 || a1.Seq == 0 || a1.Scope() != "org" {
		t.Fatalf("first row: version %d seq %d scope %s", a1.Version, a1.Seq, a1.Scope())
	}
	// The same audio again is the row already kept, not a new version.
	again, err := s.AddPromptAudio(ctx, audioRow("acme", "org", "nl", objections.PromptSynthetic, "Acme", wav1))
	if err != nil || again.Seq != a1.Seq || again.Version != 1 {
		t.Fatalf("repeat: %+v, %v", again.Version, err)
	}
	a2, err := s.AddPromptAudio(ctx, audioRow("acme", "org", "nl", objections.PromptRecorded, "Acme Goede Doelen", wav2))
	if err != nil || a2.Version != 2 || a2.Seq <= a1.Seq {
		t.Fatalf("second version: %d seq %d, %v", a2.Version, a2.Seq, err)
	}
	// Other keys count their own versions.
	en, err := s.AddPromptAudio(ctx, audioRow("acme", "org", "en", objections.PromptSynthetic, "Acme", wav1))
	if err != nil || en.Version != 1 {
		t.Fatalf("en: %d, %v", en.Version, err)
	}
	g, err := s.AddPromptAudio(ctx, audioRow("", "goodbye", "nl", objections.PromptRecorded, "Dag.", wav2))
	if err != nil || g.Version != 1 || g.Scope() != "global" {
		t.Fatalf("global: %d %s, %v", g.Version, g.Scope(), err)
	}

	all, err := s.PromptAudios(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("rows: %d, want 4", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b objections.PromptAudio) int { return int(a.Seq - b.Seq) }) {
		t.Fatal("rows not in seq order")
	}
	got := all[1]
	if got.Text != "Acme Goede Doelen" || got.Source != objections.PromptRecorded || !bytes.Equal(got.WAV, wav2) ||
		got.Hash != a2.Hash || got.DurationMS != a2.DurationMS || got.CreatedBy != "test" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("stored row: %+v", got)
	}
	since, err := s.PromptAudios(ctx, a2.Seq)
	if err != nil || len(since) != 2 || since[0].Seq != en.Seq {
		t.Fatalf("after seq %d: %d rows, %v", a2.Seq, len(since), err)
	}
}

func testPromptAudioInvalid(t *testing.T, s PromptStore) {
	ctx := context.Background()
	wav := bytes.Repeat([]byte{1, 2}, 80)
	for name, a := range map[string]objections.PromptAudio{
		"source":   audioRow("acme", "org", "nl", "sung", "Acme", wav),
		"language": audioRow("acme", "org", "Dutch", objections.PromptRecorded, "Acme", wav),
		"org":      audioRow("Acme Inc", "org", "nl", objections.PromptRecorded, "Acme", wav),
		"text":     audioRow("acme", "org", "nl", objections.PromptRecorded, "", wav),
		"empty":    audioRow("acme", "org", "nl", objections.PromptRecorded, "Acme", nil),
	} {
		if _, err := s.AddPromptAudio(ctx, a); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

func testPromptPlaybacks(t *testing.T, s PromptStore) {
	ctx := context.Background()
	h := hex.EncodeToString(bytes.Repeat([]byte{0xab}, 32))
	if _, err := s.PromptPlayback(ctx, h); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("unknown hash: %v", err)
	}
	p := objections.PromptPlayback{Hash: h, Prompt: "offer", Language: "nl", Version: "abcdef012345",
		Text: "Wilt u niet meer door Acme Goede Doelen worden gebeld?", Voice: "Polly.Lotte",
		Sounds: []string{"verzet/nl/offer-1", "verzet/store/0123"}, CreatedAt: t0}
	if err := s.PutPromptPlayback(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A second put of the same hash keeps the first.
	other := p
	other.Text, other.CreatedAt = "something else", t0.Add(1)
	if err := s.PutPromptPlayback(ctx, other); err != nil {
		t.Fatal(err)
	}
	got, err := s.PromptPlayback(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != p.Text || got.Voice != p.Voice || !slices.Equal(got.Sounds, p.Sounds) || got.Version != p.Version ||
		!got.CreatedAt.Equal(t0) || got.Prompt != "offer" || got.Language != "nl" {
		t.Fatalf("stored: %+v", got)
	}
	bad := p
	bad.Hash = "short"
	if err := s.PutPromptPlayback(ctx, bad); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("bad hash: %v", err)
	}
}
