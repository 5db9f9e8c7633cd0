package ari

import (
	"testing"
	"time"
)

// TestAudio: what a playback played is its segments summed, each from its
// PlaybackStarted to its end, by Asterisk's timestamps where there are
// some.
func TestAudio(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 18, 32, 415e6, time.UTC)
	ast := func(kind pbKind, ms int) pbEvent { // stamped by Asterisk; seen 5 s later
		at := t0.Add(time.Duration(ms) * time.Millisecond)
		return pbEvent{kind: kind, at: at, got: at.Add(5 * time.Second)}
	}
	local := func(kind pbKind, ms int) pbEvent { // settled by the adapter: no timestamp
		return pbEvent{kind: kind, got: t0.Add(time.Duration(ms)*time.Millisecond + 5*time.Second)}
	}
	const cut pbKind = 0 // the adapter's cut: an end without an event
	cases := []struct {
		name   string
		events []pbEvent
		want   int64
	}{
		{"one segment played out", []pbEvent{ast(pbStarted, 0), ast(pbFinished, 4000)}, 4000},
		{"three segments, barge-in in the last", []pbEvent{
			ast(pbStarted, 0), ast(pbContinuing, 1200), ast(pbStarted, 1203), ast(pbContinuing, 2400),
			ast(pbStarted, 2402), ast(pbFinished, 3152)}, 3147},
		{"a segment without its end", []pbEvent{ast(pbStarted, 0), ast(pbStarted, 1000), ast(pbFinished, 1500)}, 1500},
		{"seven segments failed in the same ms", []pbEvent{
			ast(pbStarted, 7), ast(pbContinuing, 7), ast(pbStarted, 7), ast(pbContinuing, 7), ast(pbStarted, 7),
			ast(pbContinuing, 7), ast(pbStarted, 7), ast(pbContinuing, 7), ast(pbStarted, 7), ast(pbContinuing, 7),
			ast(pbStarted, 7), ast(pbContinuing, 7), ast(pbStarted, 7), ast(pbFinished, 7)}, 0},
		{"stopped before it started", []pbEvent{ast(pbFinished, 10)}, 0},
		{"end settled by the adapter", []pbEvent{ast(pbStarted, 0), local(pbFinished, 2500)}, 2500},
		{"end never came: cut", []pbEvent{ast(pbStarted, 0), ast(pbContinuing, 1000), ast(pbStarted, 1000), local(cut, 1800)}, 1800},
		{"clock skew never counts negative", []pbEvent{ast(pbStarted, 1000), ast(pbFinished, 900)}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var a audio
			for _, e := range tc.events {
				a.add(e) // an event of kind cut ends the open segment as cut does
			}
			if got := a.ms(); got != tc.want {
				t.Fatalf("played %d ms, want %d", got, tc.want)
			}
		})
	}
}

// TestAudioFailedSegment: a segment that Asterisk ended within
// silentSegment while its sound lasts far longer was not played; a
// segment cut by the adapter, a short sound, or a sound played in full
// (or at the test fake's speed) was.
func TestAudioFailedSegment(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 18, 32, 415e6, time.UTC)
	ev := func(kind pbKind, media string, ms int) pbEvent {
		at := t0.Add(time.Duration(ms) * time.Millisecond)
		return pbEvent{kind: kind, media: media, at: at, got: at}
	}
	nominal := map[string]int64{"sound:a": 1500, "sound:b": 700, "sound:tick": 30}
	cases := []struct {
		name   string
		events []pbEvent
		failed string
	}{
		{"missing in the middle", []pbEvent{ev(pbStarted, "sound:a", 0), ev(pbContinuing, "sound:a", 1500),
			ev(pbStarted, "sound:b", 1500), ev(pbContinuing, "sound:b", 1500), ev(pbStarted, "sound:a", 1500)}, "sound:b"},
		{"all missing: the first", []pbEvent{ev(pbStarted, "sound:a", 7), ev(pbContinuing, "sound:a", 7),
			ev(pbStarted, "sound:b", 7), ev(pbFinished, "sound:b", 7)}, "sound:a"},
		{"played in full", []pbEvent{ev(pbStarted, "sound:a", 0), ev(pbContinuing, "sound:a", 1500),
			ev(pbStarted, "sound:b", 1500), ev(pbFinished, "sound:b", 2200)}, ""},
		{"the fake's speed", []pbEvent{ev(pbStarted, "sound:b", 0), ev(pbFinished, "sound:b", 28)}, ""},
		{"a sound too short to tell", []pbEvent{ev(pbStarted, "sound:tick", 0), ev(pbContinuing, "sound:tick", 0)}, ""},
		{"stopped at once (barge-in): not an end by Asterisk alone", []pbEvent{ev(pbStarted, "sound:a", 0), {kind: 0, got: t0.Add(time.Millisecond)}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := audio{nominal: nominal}
			for _, e := range tc.events {
				a.add(e)
			}
			if a.failed != tc.failed {
				t.Fatalf("failed %q, want %q", a.failed, tc.failed)
			}
		})
	}
}
