package ari

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/verzet/verzet/prompts"
)

// Sounds looks prompt audio up by name; *prompts.Catalog satisfies it.
type Sounds interface {
	Sound(name string) (prompts.Sound, error)
}

// MediaHandler serves prompt audio for Config.MediaURL: GET {name}.wav below
// the prefix it is mounted at (strip the prefix first), e.g.
// verzet/nl/offer-1.wav. Asterisk fetches it once and keeps it in its HTTP
// media cache; the ETag is the audio's hash, so a changed prompt is fetched
// again once max-age has passed.
func MediaHandler(s Sounds) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".wav")
		if !ok || strings.Contains(name, "..") {
			http.NotFound(w, r)
			return
		}
		snd, err := s.Sound(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(snd.Audio)
		etag := `"` + hex.EncodeToString(sum[:12]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=300")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(snd.Audio) // the client went away; nothing to do
	})
}
