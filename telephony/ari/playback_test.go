package ari_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/telephony/ari"
	"github.com/verzet/verzet/telephony/ari/aritest"
)

func catalog(t *testing.T) *prompts.Catalog {
	t.Helper()
	cat, err := prompts.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestPlayedTimeSumsSegments: Asterisk plays the offer's seven sounds as
// seven segments, each with a PlaybackStarted of its own. A key during the
// last one stops the playback. What was played is every segment, from its
// PlaybackStarted to its end, summed: not the last segment alone (issue
// 14: 3.15 s heard, 169 ms recorded), not the offer's nominal length.
func TestPlayedTimeSumsSegments(t *testing.T) {
	offer := offerPlayback(t, catalog(t))
	inOffer := map[string]bool{}
	for _, s := range offer.Sounds {
		inOffer["sound:"+s.Name] = true
	}
	last := "sound:" + offer.Sounds[len(offer.Sounds)-1].Name
	const segment = 150 * time.Millisecond
	r := newRig(t, rigOptions{fake: func(o *aritest.Options) {
		d := o.SoundDuration
		o.SoundDuration = func(uri string) (time.Duration, bool) {
			switch {
			case uri == last:
				return time.Hour, true // until the key
			case inOffer[uri]:
				return segment, true
			}
			return d(uri)
		}
	}})
	r.waitRegistered()
	start := time.Now()
	id := r.call(aritest.Call{})
	r.waitFor("the offer's last sound", func() bool { ch, _ := r.fake.Channel(id); return ch.PlayingMedia == last })
	r.press(id, "1")
	o := r.wantOutcome(id, objections.OutcomeObjected)
	took := time.Since(start).Milliseconds()
	before := int64(len(offer.Sounds)-1) * segment.Milliseconds()
	if o.PlayedMS < before || o.PlayedMS > took || !o.BargeIn {
		t.Fatalf("played %d ms; the segments before the last played %d ms, the call took %d ms (barge-in %v)", o.PlayedMS, before, took, o.BargeIn)
	}
}

// TestSegmentFailuresLoseNoEvent: the offer's seven sounds are all
// missing. Asterisk starts and fails each in the same millisecond: seven
// PlaybackStarted, six PlaybackContinuing and a PlaybackFinished "failed",
// at once. Every one reaches the Play, which ends on the PlaybackFinished
// (no playback is counted lost, none waits for its length). A failed
// playback is not an offer (issue 14): the outcome is error with the
// reason, 0 ms played, and the caller is handed back to the dialplan at
// once (VERZET_RESULT=error), not left in silence waiting for a key.
func TestSegmentFailuresLoseNoEvent(t *testing.T) {
	offer := offerPlayback(t, catalog(t))
	missing := map[string]bool{}
	for _, s := range offer.Sounds {
		missing["sound:"+s.Name] = true
	}
	r := newRig(t, rigOptions{
		fake: func(o *aritest.Options) {
			d := o.SoundDuration
			o.SoundDuration = func(uri string) (time.Duration, bool) {
				if missing[uri] {
					return 0, false
				}
				return d(uri)
			}
		},
	})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	o := r.wantOutcome(id, objections.OutcomeError)
	if lost := r.adapter.Stats().PlaybacksLost.Load(); lost != 0 || o.PlayedMS != 0 {
		t.Fatalf("%d playbacks lost; played %d ms of an offer that failed", lost, o.PlayedMS)
	}
	if want := "playback_failed: sound:" + offer.Sounds[0].Name + " not found"; !strings.HasPrefix(o.Reason, want) {
		t.Fatalf("reason %q, want it to start with %q", o.Reason, want)
	}
	r.waitFor("the call handed back", func() bool { ch, _ := r.fake.Channel(id); return ch.Continued })
	ch, _ := r.fake.Channel(id)
	if got := played(ch); len(got) != 1 || got[0] != "offer" || ch.Vars[ari.VarResult] != "error" || ch.HungUpBy != "" {
		t.Fatalf("played %v, VERZET_RESULT %q, hung up by %q", got, ch.Vars[ari.VarResult], ch.HungUpBy)
	}
}

// TestMissingMiddleSound: one sound in the middle of the offer is missing.
// Asterisk 20 plays the others and ends the playback "done"; the missing
// one starts and ends in the same millisecond (capture 10). The caller
// would hear the offer with a hole in it: that is not an offer either.
// The adapter stops the playback there, and the outcome is error, naming
// the sound.
func TestMissingMiddleSound(t *testing.T) {
	offer := offerPlayback(t, catalog(t))
	gone := "sound:" + offer.Sounds[2].Name
	r := newRig(t, rigOptions{
		fake: func(o *aritest.Options) {
			d := o.SoundDuration
			o.SoundDuration = func(uri string) (time.Duration, bool) {
				if uri == gone {
					return 0, false
				}
				return d(uri)
			}
		},
		flow: func(f *ivr.Flow) { f.HangupOnError = true },
	})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	o := r.wantOutcome(id, objections.OutcomeError)
	heard := fakeMS(offer.Sounds[:2])
	if !strings.HasPrefix(o.Reason, "playback_failed: "+gone+" not found") || o.PlayedMS < heard-20 || o.PlayedMS >= fakeMS(offer.Sounds) {
		t.Fatalf("offer = %+v; the two sounds before the missing one last %d ms", o, heard)
	}
	r.waitFor("the call hung up", func() bool { ch, _ := r.fake.Channel(id); return ch.HungUpBy == "app" })
	if ch, _ := r.fake.Channel(id); len(ch.Played) != 1 {
		t.Fatalf("played %v", ch.Played)
	}
}

// TestHTTPMediaWithoutTheCacheModule: with HTTP media, an Asterisk without
// res_http_media_cache fails every prompt at once: outcome error, handed
// back.
func TestHTTPMediaWithoutTheCacheModule(t *testing.T) {
	r := newRig(t, rigOptions{
		fake:   func(o *aritest.Options) { o.Modules = []string{"res_ari.so"} },
		config: func(c *ari.Config) { c.MediaURL = "http://verzet.invalid:8080/ari/media/" },
	})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	o := r.wantOutcome(id, objections.OutcomeError)
	if !strings.Contains(o.Reason, "sound:http://verzet.invalid:8080/ari/media/verzet/nl/offer-1.wav") || o.PlayedMS != 0 {
		t.Fatalf("offer = %+v", o)
	}
	r.waitFor("the call handed back", func() bool { ch, _ := r.fake.Channel(id); return ch.Continued })
}
