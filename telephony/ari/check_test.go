package ari_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/telephony/ari"
	"github.com/verzet/verzet/telephony/ari/aritest"
)

// TestMediaCheckSounds: after connecting, the adapter asks the node for
// every prompt sound. All installed: nothing to report. One missing: it is
// named, and it is checked again at the next connection.
func TestMediaCheckSounds(t *testing.T) {
	cat := catalog(t)
	var gone atomic.Value // a sound name; "" for none
	gone.Store("")
	r := newRig(t, rigOptions{
		config: func(c *ari.Config) { c.Sounds = cat.SoundNames() },
		fake: func(o *aritest.Options) {
			d := o.SoundDuration
			o.SoundDuration = func(uri string) (time.Duration, bool) {
				if g := gone.Load().(string); g != "" && uri == "sound:"+g {
					return 0, false
				}
				return d(uri)
			}
		},
	})
	r.waitRegistered()
	r.waitFor("the sounds checked", func() bool { return len(soundRequests(r.fake)) >= len(cat.SoundNames()) })
	r.waitFor("the check's report", func() bool { return ari.MediaChecked(r.adapter) })
	if p := r.adapter.MediaProblems(); len(p) != 0 {
		t.Fatalf("problems with every sound installed: %v", p)
	}
	r.fake.Stop()
	gone.Store("verzet/nl/offer-3") // removed while the node was away
	if err := r.fake.Start(); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the sound reported missing", func() bool { return len(r.adapter.MediaProblems()) == 1 })
	if p := r.adapter.MediaProblems()[0]; !strings.HasSuffix(p, "sound verzet/nl/offer-3 is not installed") || !strings.HasPrefix(p, r.fake.Addr()+": ") {
		t.Fatalf("problem = %q", p)
	}
}

func soundRequests(fake *aritest.Asterisk) []string {
	var out []string
	for _, req := range fake.Requests() {
		if strings.HasPrefix(req.Path, "/sounds/") {
			out = append(out, req.Path)
		}
	}
	return out
}

// TestMediaCheckHTTP: with HTTP media the node must have
// res_http_media_cache, and every media URL must answer a HEAD.
func TestMediaCheckHTTP(t *testing.T) {
	cat := catalog(t)
	media := httptest.NewServer(http.StripPrefix("/ari/media/", ari.MediaHandler(cat)))
	t.Cleanup(media.Close)
	sounds := append(cat.SoundNames(), "verzet/nl/not-in-the-catalogue")
	r := newRig(t, rigOptions{
		config: func(c *ari.Config) { c.Sounds, c.MediaURL = sounds, media.URL+"/ari/media/" },
		fake:   func(o *aritest.Options) { o.Modules = []string{"res_ari.so"} },
	})
	r.waitRegistered()
	r.waitFor("the check's report", func() bool { return ari.MediaChecked(r.adapter) })
	p := r.adapter.MediaProblems()
	if len(p) != 2 || !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "module res_http_media_cache.so is not loaded") }) ||
		!slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "not-in-the-catalogue.wav: HEAD answered 404") }) {
		t.Fatalf("problems = %v", p)
	}
}
