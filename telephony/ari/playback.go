package ari

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/rid"
	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/prompts"
)

// pbEvent is a playback event for the Play waiting on it.
type pbEvent struct {
	id    string
	kind  pbKind
	media string    // the segment's media URI
	state string    // PlaybackFinished: done or failed
	at    time.Time // Asterisk's timestamp; zero when the adapter settled the playback itself
	got   time.Time // when the router saw it, by the adapter's clock
}

type pbKind int

const (
	pbStarted    pbKind = iota + 1 // PlaybackStarted: a segment (one media URI) begins
	pbContinuing                   // PlaybackContinuing: a segment ended, the next one follows
	pbFinished                     // PlaybackFinished: the playback is over (done or failed)
)

// watch registers a playback id before its play request is sent: playback
// events carry only the playback, and PlaybackStarted may arrive before
// the POST returns.
func (n *node) watch(id string, c *call) { n.playbacks.Store(id, c) }

func (n *node) unwatch(id string) { n.playbacks.Delete(id) }

// deliver queues a playback event for the call playing it; false when no
// call of ours plays it. The call's
// queue has no bound: a playback of N sounds that all fail sends 2N events
// in the same millisecond, and the PlaybackFinished at their end must not
// be the one that is dropped.
func (n *node) deliver(id string, e pbEvent) bool {
	v, ok := n.playbacks.Load(id)
	if !ok {
		return false // not ours: one of a stopped instance's, or over
	}
	e.id, e.got = id, n.a.now()
	v.(*call).pbs.push(e)
	return true
}

// audio sums what one playback played, segment by segment, as Asterisk
// reports it: Asterisk plays each media URI of a playback as a segment of
// its own, with a PlaybackStarted at its start and a PlaybackContinuing
// (PlaybackFinished after the last) at its end, each stamped with
// Asterisk's clock. A segment ends at that event, at the next
// PlaybackStarted should its end not come, or where the adapter cut it
// (cut). Where a timestamp is missing, the times the router saw the events
// stand in. The prompt's nominal length never counts.
//
// A segment Asterisk could not play (a sound missing on the node, HTTP
// media it could not fetch) starts and ends in the same millisecond:
// Asterisk 20 (res_stasis_playback.c, playback_final_update) ends it with
// PlaybackContinuing when more media follow, and with PlaybackFinished
// "failed" when it was the last. The first such segment is kept in failed:
// one that Asterisk ended within silentSegment although its sound lasts
// far longer (nominal, by media URI).
type audio struct {
	played  time.Duration
	open    bool    // a segment has started and not ended
	from    pbEvent // its PlaybackStarted
	nominal map[string]int64
	failed  string // media of the first segment that did not play
}

func (a *audio) add(e pbEvent) {
	a.end(e)
	if e.kind == pbStarted {
		a.open, a.from = true, e
	}
}

// silentSegment is how long, at most, a segment that Asterisk could not
// play lasts between its PlaybackStarted and its end (the same
// millisecond on a real Asterisk 20, for a missing file or an HTTP medium
// refused at once); a segment that ended that fast while its sound lasts
// fifty times as long was not played. (A healthy segment lasts as long
// as its sound; the test fake plays them 25 times faster. Sounds shorter
// than five times silentSegment are not judged.)
const silentSegment = 20 * time.Millisecond

// end closes the open segment at e.
func (a *audio) end(e pbEvent) {
	if !a.open {
		return
	}
	a.open = false
	d := e.at.Sub(a.from.at)
	if e.at.IsZero() || a.from.at.IsZero() {
		d = e.got.Sub(a.from.got)
	}
	asterisk := e.kind == pbContinuing || e.kind == pbFinished // ended by Asterisk, not cut
	sound := time.Duration(a.nominal[a.from.media]) * time.Millisecond
	if asterisk && d < silentSegment && 50*d < sound && sound >= 5*silentSegment {
		// Not played: nothing of it was heard, whatever the clocks say.
		if a.failed == "" {
			a.failed = a.from.media
		}
		return
	}
	a.played += max(0, d)
}

// cut closes the open segment now, by the adapter's clock: its end was not
// reported.
func (a *audio) cut(now time.Time) { a.end(pbEvent{got: now}) }

func (a *audio) ms() int64 { return a.played.Milliseconds() }

// notPlayed is the ivr.PlayError of media Asterisk could not play.
func notPlayed(media string) *ivr.PlayError {
	return &ivr.PlayError{Kind: "not_found", Media: media,
		Detail: "not found or not playable on the node (verzet prompts install; HTTP media: res_http_media_cache)"}
}

// settleWait bounds the wait for the PlaybackFinished that a stop or a
// hang-up brings: Asterisk sends it within a frame or two, and without it
// the adapter's clock ends the segment.
const settleWait = time.Second

// Play implements ivr.Call: one ARI playback of the prompt's sounds back to
// back. It returns when PlaybackFinished comes, when ctx is cancelled
// (barge-in: the playback is stopped), or when the call ends, with the ms
// played as Asterisk reports them (see audio).
func (c *call) Play(ctx context.Context, pb prompts.Playback) (int64, error) {
	c.playMu.Lock()
	defer c.playMu.Unlock()
	if ctx.Err() != nil || c.ended() || len(pb.Sounds) == 0 {
		return 0, nil
	}
	cl := c.n.client()
	if cl == nil {
		return 0, &ivr.PlayError{Kind: "refused", Detail: "not played: " + errNotConnected.Error()}
	}
	c.pbs.drain() // what is left of earlier playbacks
	id := c.playbackID()
	media := c.n.a.media(pb)
	// Stage, watch, then execute: the playback's events can only be caught
	// by its id, registered before the request goes out.
	ph := ariv5.NewPlaybackHandle(ariv5.NewKey(ariv5.PlaybackKey, id), cl.Playback(), func(*ariv5.PlaybackHandle) error {
		rctx, cancel := context.WithTimeout(ctx, c.n.a.cfg.RequestTimeout)
		defer cancel()
		return c.n.play(rctx, c.id, id, media)
	})
	c.n.watch(id, c)
	defer c.n.unwatch(id)
	if err := ph.Exec(); err != nil {
		if gone(err) {
			c.end()
			return 0, nil
		}
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, &ivr.PlayError{Kind: "refused", Media: media[0], Detail: "not played: the play request failed: " + err.Error()}
	}
	// Only now may a reconcile settle it (resume): before Asterisk answered
	// the POST, a GET finds no playback that is merely not created yet.
	c.playing.Store(&id)
	defer c.playing.Store(nil)
	a := audio{nominal: make(map[string]int64, len(media))}
	for i, s := range pb.Sounds {
		a.nominal[media[i]] = s.DurationMS
	}
	limit := time.NewTimer(time.Duration(pb.DurationMS)*time.Millisecond + c.n.a.cfg.PlaybackGrace)
	defer limit.Stop()
	for {
		select {
		case <-c.pbs.ready:
			last, over := c.follow(id, &a)
			switch {
			case c.cut() || ctx.Err() != nil:
				// Cut by the hang-up (Asterisk ends the playback
				// "failed") or stopped by a key: not a failure.
				if over {
					return a.ms(), nil
				}
			case a.failed != "":
				// A sound of the prompt did not play; the rest would
				// play without it. The offer is not made: stop.
				if !over {
					c.stop(ph)
					c.settle(id, &a)
				}
				return a.ms(), notPlayed(a.failed)
			case over && last.state != "done":
				return a.ms(), notPlayed(last.media)
			case over:
				return a.ms(), nil
			}
		case <-ctx.Done():
			c.stop(ph)
			return c.settle(id, &a), nil
		case <-c.done:
			return c.settle(id, &a), nil
		case <-limit.C:
			// PlaybackFinished did not come (lost in a websocket gap):
			// ask Asterisk.
			c.n.a.stats.PlaybacksLost.Add(1)
			if _, err := ph.Data(); gone(err) {
				a.cut(c.n.a.now())
				return a.ms(), nil
			}
			c.log().Warn("playback still running past its length; stopping it")
			c.stop(ph)
			return c.settle(id, &a), nil
		}
	}
}

// playbackID names the call's next playback. With an instance id it is
// one another instance can name too ("vz-{instance}-{channel}-{n}", n
// counting the call's playbacks from 1), so that, taking the call over
// after this instance stopped, it can stop the playback this instance
// left running (takeover.go); else a random one.
func (c *call) playbackID() string {
	n := c.plays.Add(1)
	if c.n.a.cfg.Instance == "" || n > maxPlays {
		return rid.New(rid.Playback)
	}
	return deadPlaybackID(c.n.a.cfg.Instance, c.id, n)
}

// maxPlays is how many playbacks of a call are named after it: a
// dialogue plays far fewer (the offer, at most five repeats and five "not
// valid", then the end).
const maxPlays = 24

func deadPlaybackID(instance, channel string, n int64) string {
	return "vz-" + instance + "-" + channel + "-" + strconv.FormatInt(n, 10)
}

// follow adds the queued events of playback id to a; over reports its
// PlaybackFinished, returned as last.
func (c *call) follow(id string, a *audio) (last pbEvent, over bool) {
	batch, _ := c.pbs.drain()
	for _, e := range batch {
		if e.id != id {
			continue
		}
		a.add(e)
		if e.kind == pbFinished {
			return e, true
		}
	}
	return pbEvent{}, false
}

func (c *call) stop(ph *ariv5.PlaybackHandle) {
	if err := ph.Stop(); err != nil && !gone(err) {
		c.log().Debug("playback not stopped", zap.Error(err))
	}
}

// settle waits, at most settleWait, for the PlaybackFinished of a playback
// that was stopped or whose call ended, and returns the ms it played.
func (c *call) settle(id string, a *audio) int64 {
	t := time.NewTimer(settleWait)
	defer t.Stop()
	for {
		select {
		case <-c.pbs.ready:
			if _, over := c.follow(id, a); over {
				return a.ms()
			}
		case <-t.C:
			a.cut(c.n.a.now())
			return a.ms()
		}
	}
}

// resume settles a playback whose PlaybackFinished may have been lost in a
// websocket gap, so that the dialogue goes on.
func (c *call) resume(ctx context.Context) {
	p := c.playing.Load()
	if p == nil {
		return
	}
	id := *p
	rctx, cancel := context.WithTimeout(ctx, c.n.a.cfg.RequestTimeout)
	defer cancel()
	err := c.n.do(rctx, http.MethodGet, "/playbacks/"+url.PathEscape(id), nil, nil, nil)
	if statusOf(err) == http.StatusNotFound {
		c.n.deliver(id, pbEvent{kind: pbFinished, state: "done"})
	}
}
