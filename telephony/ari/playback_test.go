package ari_test

import (
	"testing"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
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
// (no playback is counted lost, none waits for its length), and the
// evidence says that next to nothing was heard.
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
		flow: func(f *ivr.Flow) { f.Timeout = 300 * time.Millisecond },
	})
	r.waitRegistered()
	id := r.call(aritest.Call{})
	o := r.wantOutcome(id, objections.OutcomeNoInput)
	if lost := r.adapter.Stats().PlaybacksLost.Load(); lost != 0 || o.PlayedMS >= offer.DurationMS {
		t.Fatalf("%d playbacks lost; played %d ms of two %d ms offers that failed", lost, o.PlayedMS, offer.DurationMS)
	}
	ch, _ := r.fake.Channel(id)
	if got := played(ch); len(got) != 4 || got[0] != "offer" || got[2] != "offer" {
		t.Fatalf("played %v", got)
	}
}
