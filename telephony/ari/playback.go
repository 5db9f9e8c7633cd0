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
	started bool
	state   string // PlaybackFinished: done or failed
}

// watch registers a playback id before its play request is sent: playback
// events carry only the playback, and PlaybackStarted may arrive before
// the POST returns (ari.md §4.6).
func (n *node) watch(id string, ch chan<- pbEvent) { n.playbacks.Store(id, ch) }

func (n *node) unwatch(id string) { n.playbacks.Delete(id) }

func (n *node) deliver(id string, e pbEvent) {
	v, ok := n.playbacks.Load(id)
	if !ok {
		return
	}
	select {
	case v.(chan<- pbEvent) <- e:
	default: // the Play waits on at most started, finished and a settle
	}
}

var (
	errPlaybackFailed = errors.New("playback failed: is the prompt audio installed (verzet prompts install)?")
	errPlayRefused    = errors.New("playback not started")
)

// Play implements ivr.Call: one ARI playback of the prompt's sounds back to
// back. It returns when PlaybackFinished comes, when ctx is cancelled
// (barge-in: the playback is stopped), or when the call ends. The ms
// played are measured from PlaybackStarted; a playback that finished
// "done" without being stopped played to its end.
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
	id := rid.New(rid.Playback)
	evs := make(chan pbEvent, 4)
	// Stage, watch, then execute: the playback's events can only be caught
	// by its id, registered before the request goes out.
	ph := ariv5.NewPlaybackHandle(ariv5.NewKey(ariv5.PlaybackKey, id), cl.Playback(), func(*ariv5.PlaybackHandle) error {
		rctx, cancel := context.WithTimeout(ctx, c.n.a.cfg.RequestTimeout)
		defer cancel()
		return c.n.play(rctx, c.id, id, c.n.a.media(pb))
	})
	c.n.watch(id, evs)
	defer c.n.unwatch(id)
	c.playing.Store(&id)
	defer c.playing.Store(nil)
	sent := c.n.a.now()
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
	var started time.Time
	played := func() int64 {
		from := started
		if from.IsZero() {
			from = sent
		}
		return max(0, min(c.n.a.now().Sub(from).Milliseconds(), pb.DurationMS))
	}
	limit := time.NewTimer(time.Duration(pb.DurationMS)*time.Millisecond + c.n.a.cfg.PlaybackGrace)
	defer limit.Stop()
	for {
		select {
		case e := <-evs:
			if e.started {
				started = c.n.a.now()
				continue
			}
			if e.state == "done" {
				return pb.DurationMS, nil
			}
			ms := played()
			if c.ended() || ctx.Err() != nil {
				return ms, nil // cut by the hang-up or the barge-in
			}
			return ms, errPlaybackFailed
		case <-ctx.Done():
			ms := played()
			if err := ph.Stop(); err != nil && !gone(err) {
				c.log().Debug("playback not stopped", zap.Error(err))
			}
			return ms, nil
		case <-c.done:
			return played(), nil
		case <-limit.C:
			// PlaybackFinished did not come (lost in a websocket gap, or
			// dropped by a full subscription): ask Asterisk.
			c.n.a.stats.PlaybacksLost.Add(1)
			if _, err := ph.Data(); gone(err) {
				return pb.DurationMS, nil
			}
			c.log().Warn("playback still running past its length; stopping it")
			if err := ph.Stop(); err != nil && !gone(err) {
				c.log().Debug("playback not stopped", zap.Error(err))
			}
			return pb.DurationMS, nil
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
		c.n.deliver(id, pbEvent{state: "done"})
	}
}
