package ari

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/rid"
	"go.uber.org/zap"

	"github.com/verzet/verzet/prompts"
)

// pbEvent is a playback event for the Play waiting on it.
type pbEvent struct {
	id    string
	kind  pbKind
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

// deliver queues a playback event for the call playing it. The call's
// queue has no bound: a playback of N sounds that all fail sends 2N events
// in the same millisecond, and the PlaybackFinished at their end must not
// be the one that is dropped.
func (n *node) deliver(id string, e pbEvent) {
	v, ok := n.playbacks.Load(id)
	if !ok {
		return
	}
	e.id, e.got = id, n.a.now()
	v.(*call).pbs.push(e)
}

// audio sums what one playback played, segment by segment, as Asterisk
// reports it: Asterisk plays each media URI of a playback as a segment of
// its own, with a PlaybackStarted at its start and a PlaybackContinuing
// (PlaybackFinished after the last) at its end, each stamped with
// Asterisk's clock. A segment ends at that event, at the next
// PlaybackStarted should its end not come, or where the adapter cut it
// (cut). Where a timestamp is missing, the times the router saw the events
// stand in. The prompt's nominal length never counts.
type audio struct {
	played time.Duration
	open   bool    // a segment has started and not ended
	from   pbEvent // its PlaybackStarted
}

func (a *audio) add(e pbEvent) {
	a.end(e)
	if e.kind == pbStarted {
		a.open, a.from = true, e
	}
}

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
	a.played += max(0, d)
}

// cut closes the open segment now, by the adapter's clock: its end was not
// reported.
func (a *audio) cut(now time.Time) { a.end(pbEvent{got: now}) }

func (a *audio) ms() int64 { return a.played.Milliseconds() }

var (
	errPlaybackFailed = errors.New("playback failed: is the prompt audio installed (verzet prompts install)?")
	errPlayRefused    = errors.New("playback not started")
)

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
		return 0, errNotConnected
	}
	c.pbs.drain() // what is left of earlier playbacks
	id := rid.New(rid.Playback)
	// Stage, watch, then execute: the playback's events can only be caught
	// by its id, registered before the request goes out.
	ph := ariv5.NewPlaybackHandle(ariv5.NewKey(ariv5.PlaybackKey, id), cl.Playback(), func(*ariv5.PlaybackHandle) error {
		rctx, cancel := context.WithTimeout(ctx, c.n.a.cfg.RequestTimeout)
		defer cancel()
		return c.n.play(rctx, c.id, id, c.n.a.media(pb))
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
		return 0, errors.Join(errPlayRefused, err)
	}
	// Only now may a reconcile settle it (resume): before Asterisk answered
	// the POST, a GET finds no playback that is merely not created yet.
	c.playing.Store(&id)
	defer c.playing.Store(nil)
	var a audio
	limit := time.NewTimer(time.Duration(pb.DurationMS)*time.Millisecond + c.n.a.cfg.PlaybackGrace)
	defer limit.Stop()
	for {
		select {
		case <-c.pbs.ready:
			if state, over := c.follow(id, &a); over {
				if state == "done" || c.ended() || ctx.Err() != nil {
					return a.ms(), nil // played out, or cut by the hang-up or the barge-in
				}
				return a.ms(), errPlaybackFailed
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

// follow adds the queued events of playback id to a; over reports its
// PlaybackFinished, with its state.
func (c *call) follow(id string, a *audio) (state string, over bool) {
	batch, _ := c.pbs.drain()
	for _, e := range batch {
		if e.id != id {
			continue
		}
		a.add(e)
		if e.kind == pbFinished {
			return e.state, true
		}
	}
	return "", false
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
