package ari

import (
	"context"

	"go.uber.org/zap"
)

// reconcile compares the channels in our app with the dialogues: a
// dialogue whose channel left the app while its StasisEnd was lost (a
// websocket gap, a dropped event) ends and closes its offer; a channel in
// the app without a dialogue (its StasisStart was lost, or verzet
// restarted) gets one — or is handed back while draining; a dialogue whose
// channel is still there resumes, and after a gap (afterGap) a playback
// that ended in it is settled.
func (s *session) reconcile(ctx context.Context, afterGap bool) {
	n := s.n
	start := n.a.now()
	rctx, cancel := context.WithTimeout(ctx, n.a.cfg.RequestTimeout)
	state, err := n.app(rctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("ARI reconcile skipped", zap.Error(err))
		}
		return
	}
	n.a.stats.Reconciles.Add(1)
	if len(state.EventsAllowed) == 0 && s.filter.Load() {
		// Asterisk clears the filter when the app registers again: a
		// registration that replaced ours or came after our PUT.
		n.log.Warn("ARI event filter found cleared; setting it again")
		s.filter.Store(false)
		s.refilter(ctx)
	}
	ids := state.ChannelIDs
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	n.mu.RLock()
	calls := make([]*call, 0, len(n.channels))
	for _, c := range n.channels {
		calls = append(calls, c)
	}
	n.mu.RUnlock()
	var left []*call
	for _, c := range calls {
		switch {
		case in[c.id]:
			if afterGap {
				c.resume(ctx)
			}
		case c.created.Before(start) && !c.ended():
			left = append(left, c)
		}
	}
	var unknown []string
	for _, id := range ids {
		if n.call(id) == nil && !n.finishedRecently(id) {
			unknown = append(unknown, id)
		}
	}
	if len(left) == 0 && len(unknown) == 0 {
		return
	}
	// The snapshot may be ahead of the events: a StasisStart or StasisEnd
	// still on its way. A user event sent now comes back behind them on the
	// same websocket; what is still unexplained then, was lost.
	if err := s.beat(ctx); err != nil {
		n.log.Debug("ARI events lag behind the reconcile; settling later", zap.Int("left", len(left)), zap.Int("unknown", len(unknown)), zap.Error(err))
		return
	}
	for _, c := range left {
		if !c.ended() {
			n.a.stats.CallsVanished.Add(1)
			c.log().Info("channel left the app while its events were lost; ending its dialogue")
			c.end()
		}
	}
	for _, id := range unknown {
		if !n.finishedRecently(id) {
			n.start(id, nil, nil, true)
		}
	}
}
