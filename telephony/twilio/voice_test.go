package twilio

import "testing"

// An org's own voice for the call's language wins over its voice for every
// language, which wins over VERZET_TWILIO_TTS; without any, audio plays.
func TestVoiceFor(t *testing.T) {
	h := &Handler{cfg: Config{Voices: map[string]Voice{"nl": {Name: "Polly.Ruben"}, "": {Name: "alice"}}}}
	for _, c := range []struct {
		name, org, lang, want string
	}{
		{"org voice for the language", "nl=Polly.Lotte,en=Polly.Amy", "nl", "Polly.Lotte"},
		{"org voice, other language", "nl=Polly.Lotte,en=Polly.Amy", "en", "Polly.Amy"},
		{"org voice for every language", "Google.nl-NL-Wavenet-A", "de", "Google.nl-NL-Wavenet-A"},
		{"no org voice: the configured one", "", "nl", "Polly.Ruben"},
		{"no org voice: the configured default", "en=Polly.Amy", "de", "alice"},
		{"malformed org setting: the configured one", "nl=<bad>", "nl", "Polly.Ruben"},
	} {
		if got := h.voiceFor(c.org, c.lang); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := (&Handler{}).voiceFor("", "nl"); got != "" {
		t.Errorf("nothing configured: %q", got)
	}
}
