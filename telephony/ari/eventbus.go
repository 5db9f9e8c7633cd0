package ari

import (
	"strings"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"
)

// eventBus is the ari/v5 bus of our clients. v5.3.1's stdbus gives each
// subscription 100 events and silently drops the rest, panics on the nil
// event its reader sends for a type it cannot decode, and delivers events
// without keys (ApplicationReplaced) to nobody. This one queues every event
// in order, without a bound, for the session's router; drops nil; and
// routes ApplicationReplaced like any other event. The adapter never
// subscribes through ari/v5 handles, so Subscribe delivers nothing.
type eventBus struct {
	n *node
	q *queue[ariv5.Event]
}

var _ ariv5.Bus = (*eventBus)(nil)

// Send is called by ari/v5's websocket reader, one event at a time.
func (b *eventBus) Send(e ariv5.Event) {
	if e == nil {
		// An event type ari/v5 v5.3.1 does not know: stdbus would panic.
		b.n.a.stats.EventsUndecodable.Add(1)
		return
	}
	if d := b.q.push(e); d > b.n.a.stats.EventBacklogMax.Load() {
		b.n.a.stats.EventBacklogMax.Store(d)
	}
}

// Subscribe implements ari.Bus; the adapter routes events itself.
func (b *eventBus) Subscribe(*ariv5.Key, ...string) ariv5.Subscription {
	ch := make(chan ariv5.Event)
	close(ch)
	return closedSub(ch)
}

// Close implements ari.Bus.
func (b *eventBus) Close() {}

type closedSub <-chan ariv5.Event

func (c closedSub) Events() <-chan ariv5.Event { return c }
func (c closedSub) Cancel()                    {}

// route hands one event to its call or playback. It never blocks and does
// no I/O: it is the only reader of the session's subscription.
func (n *node) route(s *session, e ariv5.Event) {
	s.routed.Store(n.a.now().UnixNano())
	switch e := e.(type) {
	case *ariv5.StasisStart:
		n.lag(e.Timestamp)
		n.start(e.Channel.ID, &e.Channel, e.Args, false)
	case *ariv5.ChannelDtmfReceived:
		n.lag(e.Timestamp)
		if c := n.call(e.Channel.ID); c != nil {
			c.press(e.Digit)
		} else if !n.earlyKey(e.Channel.ID, e.Digit) {
			n.a.stats.KeysDropped.Add(1)
		}
	case *ariv5.ChannelHangupRequest:
		n.end(e.Channel.ID)
	case *ariv5.StasisEnd:
		n.end(e.Channel.ID)
	case *ariv5.ChannelDestroyed:
		n.end(e.Channel.ID)
	case *ariv5.PlaybackStarted:
		if !n.deliver(e.Playback.ID, pbEvent{kind: pbStarted, media: e.Playback.MediaURI, at: time.Time(e.Timestamp)}) {
			n.foreignPlayback(e.Playback)
		}
	case *ariv5.PlaybackContinuing:
		if !n.deliver(e.Playback.ID, pbEvent{kind: pbContinuing, media: e.Playback.MediaURI, at: time.Time(e.Timestamp)}) {
			n.foreignPlayback(e.Playback)
		}
	case *ariv5.PlaybackFinished:
		n.deliver(e.Playback.ID, pbEvent{kind: pbFinished, media: e.Playback.MediaURI, state: e.Playback.State, at: time.Time(e.Timestamp)})
	case *ariv5.ChannelUserevent:
		if strings.HasPrefix(e.Eventname, n.a.hbPrefix) {
			select {
			case s.hb <- e.Eventname:
			default:
			}
		}
	case *ariv5.ApplicationReplaced:
		n.a.stats.Replaced.Add(1)
		n.log.Error("ApplicationReplaced: another websocket took application "+n.a.cfg.App+
			" and every call with it; give every verzet instance its own VERZET_ARI_APP. Taking it back after a wait",
			zap.String("app", n.a.cfg.App), zap.Duration("wait", n.a.cfg.ReplacedWait))
		s.replaced.Store(true)
		s.broken()
	}
}

// lag notes how late an event reaches the router (Asterisk's clock against
// ours: meaningful with NTP on both).
func (n *node) lag(at ariv5.DateTime) {
	if t := time.Time(at); !t.IsZero() {
		if ms := n.a.now().Sub(t).Milliseconds(); ms > n.a.stats.EventLagMaxMS.Load() {
			n.a.stats.EventLagMaxMS.Store(ms)
		}
	}
}
