package espeak_test

import (
	"context"
	"testing"

	"github.com/verzet/verzet/prompts/espeak"
)

// TestSpeak needs espeak-ng, which .ci/run installs: it does not skip.
func TestSpeak(t *testing.T) {
	for _, voice := range []string{"nl", "en"} {
		b, err := espeak.Speak(context.Background(), voice, "-Acme Goede Doelen")
		if err != nil {
			t.Fatalf("%s: %v", voice, err)
		}
		if len(b) < 1000 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
			t.Fatalf("%s: %d bytes, not a WAV file", voice, len(b))
		}
	}
	if _, err := espeak.Speak(context.Background(), "zz", "Acme"); err == nil {
		t.Fatal("unknown voice: no error")
	}
}
