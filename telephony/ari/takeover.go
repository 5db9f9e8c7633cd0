package ari

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
)

// No caller is left in silence when an instance dies (issue 14). Instances
// on one store know each other by their heartbeat rows (Peers): each
// writes its own every BeatInterval. An instance whose row is older than
// PeerTimeout has stopped. Then:
//
//   - its offers still in_progress are closed as interrupted, by a live
//     instance of the same ARI application (the same app restarted) or by
//     the instance that took its application over;
//   - if no live instance has its application, one live instance claims it
//     in the store (Peers.TakeOver: one, not several) and, on every node,
//     takes over the channels still in that application's Stasis. A
//     channel cannot be driven by an application that does not hold it
//     without surprises (events go to the holder, and a restarted holder
//     would adopt it again), so it is moved: first a subscription of our
//     application to the channel (POST /applications/{ours}/subscription?
//     eventSource=channel:{id}), so that a key pressed from now on reaches
//     us though the channel is still in the dead application; then POST
//     /channels/{id}/move?app={ours} with the channel's Stasis arguments.
//     Asterisk runs the move after the channel's playback ends: a playback
//     of the dead instance plays on to its last sound (checked on Asterisk
//     20.20.1). Its id is one we can name (call.playbackID): we stop it at
//     once (a DELETE of each id it may have; the one playing answers 204).
//     Failing that (an id of another form), its next segment event tells
//     us its id, and we stop it then: the caller hears at most the rest of
//     the sound playing. The StasisStart that follows starts a dialogue as
//     any other, with the keys heard meanwhile, and its offer follows the
//     interrupted one in the store.
//
// What this cannot recover: keys pressed before the subscription (Asterisk
// sends them to the dead application's closed websocket, and drops them),
// how much of the offer the caller heard before (played_ms of the
// interrupted record is 0), and channels whose caller hung up in the gap
// (their offers are closed as interrupted). Without a live instance the
// dialplan's TIMEOUT(absolute) before Stasis() ends the call
// (deploy/asterisk/README.md). Checked against Asterisk 20.20.1
// (aritest/testdata/real-events/09).

// Peers is what the takeover needs of the store: the instances' heartbeat
// rows, the claim on a stopped instance's application, and the closing of
// its offers. The stores of objections/sqlite and objections/postgres
// implement it.
type Peers interface {
	Heartbeat(ctx context.Context, inst objections.Instance) error
	Instances(ctx context.Context) ([]objections.Instance, error)
	TakeOver(ctx context.Context, app, by string, cutoff time.Time) ([]objections.Instance, error)
	InterruptOffers(ctx context.Context, instances []string, reason string, at time.Time) ([]objections.Offer, error)
}

// takeover is a channel of a stopped instance that a node is moving into
// our application: the keys heard before its StasisStart, and the dead
// instance's playbacks already stopped.
type takeover struct {
	since   time.Time
	from    string
	keys    []ivr.Key
	stopped map[string]bool
}

// takeoverFor bounds a takeover that has not brought its StasisStart: the
// next beat tries again.
const takeoverFor = time.Minute

// peers runs the heartbeat and the takeovers until ctx ends.
func (a *Adapter) peers(ctx context.Context) {
	started := a.now()
	closed := map[string]bool{} // instances whose offers were closed
	held := map[string]bool{}   // applications we took over
	var lastBeat time.Time
	t := time.NewTicker(a.cfg.BeatInterval)
	defer t.Stop()
	for {
		if a.beat(ctx, started, &lastBeat) {
			a.lookAround(ctx, closed, held)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// beat writes our heartbeat; it reports whether it did.
func (a *Adapter) beat(ctx context.Context, started time.Time, last *time.Time) bool {
	now := a.now()
	bctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	err := a.cfg.Peers.Heartbeat(bctx, objections.Instance{ID: a.cfg.Instance, App: a.cfg.App, StartedAt: started, LastSeen: now})
	cancel()
	if err == nil {
		*last = now
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	a.stats.HeartbeatFailures.Add(1)
	if !last.IsZero() && now.Sub(*last) > a.cfg.PeerTimeout {
		a.log.Error("heartbeat not written for longer than the peer timeout: another instance may take this instance's calls over",
			zap.String("instance", a.cfg.Instance), zap.Duration("since", now.Sub(*last)), zap.Error(err))
	} else {
		a.log.Warn("heartbeat not written", zap.String("instance", a.cfg.Instance), zap.Error(err))
	}
	return false
}

// lookAround finds the instances that stopped, closes their offers and
// takes their channels over where it is ours to do.
func (a *Adapter) lookAround(ctx context.Context, closed, held map[string]bool) {
	lctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	list, err := a.cfg.Peers.Instances(lctx)
	cancel()
	if err != nil {
		a.log.Warn("instances not read", zap.Error(err))
		return
	}
	now := a.now()
	cutoff := now.Add(-a.cfg.PeerTimeout)
	live := map[string]bool{}
	for _, i := range list {
		if i.ID == a.cfg.Instance || !i.LastSeen.Before(cutoff) {
			live[i.App] = true
		}
	}
	// Earlier instances of our own application: verzet restarted.
	var mine []string
	dead := map[string]bool{}
	for _, i := range list {
		if i.ID == a.cfg.Instance || !i.LastSeen.Before(cutoff) {
			continue
		}
		switch {
		case i.App == a.cfg.App && !closed[i.ID]:
			mine = append(mine, i.ID)
		case i.App != "" && i.App != a.cfg.App && !live[i.App]:
			dead[i.App] = true
		}
	}
	a.interrupt(ctx, mine, "its application "+a.cfg.App+" runs again as instance "+a.cfg.Instance, closed)
	apps := make([]string, 0, len(dead))
	for app := range dead {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	for _, app := range apps {
		tctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
		claimed, err := a.cfg.Peers.TakeOver(tctx, app, a.cfg.Instance, cutoff)
		cancel()
		if err != nil {
			a.log.Warn("stopped instance not claimed", zap.String("app", app), zap.Error(err))
			continue
		}
		if len(claimed) == 0 {
			continue // another live instance holds it
		}
		if !held[app] {
			// Its channels and offers, if any, are logged as they are
			// taken over: an instance stopped cleanly leaves none.
			held[app] = true
			a.log.Info("claimed the ARI application of a stopped instance: its calls, if any, are ours",
				zap.String("app", app), zap.String("instance", claimed[0].ID), zap.Time("last_seen", claimed[0].LastSeen))
		}
		ids := make([]string, 0, len(claimed))
		for _, i := range claimed {
			if !closed[i.ID] {
				ids = append(ids, i.ID)
			}
		}
		a.interrupt(ctx, ids, "it stopped heart-beating; instance "+a.cfg.Instance+" took its calls over", closed)
		dead := make([]string, 0, len(claimed))
		for _, i := range claimed {
			dead = append(dead, i.ID)
		}
		var wg sync.WaitGroup
		for _, n := range a.nodes {
			wg.Go(func() { n.takeOver(ctx, app, dead) })
		}
		wg.Wait()
	}
}

// interrupt closes the offers in_progress of stopped instances ids.
func (a *Adapter) interrupt(ctx context.Context, ids []string, why string, closed map[string]bool) {
	if len(ids) == 0 {
		return
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
	offers, err := a.cfg.Peers.InterruptOffers(ictx, ids, "instance "+strings.Join(ids, ", ")+" stopped: "+why, a.now())
	cancel()
	if err != nil {
		a.log.Warn("offers of a stopped instance not closed; trying again", zap.Strings("instances", ids), zap.Error(err))
		return
	}
	for _, id := range ids {
		closed[id] = true
	}
	if len(offers) > 0 {
		a.log.Warn("offers of a stopped instance closed as interrupted", zap.Strings("instances", ids), zap.Int("offers", len(offers)))
	}
}

// takeOver moves the channels in application from, of the stopped
// instances dead, on this node into ours.
func (n *node) takeOver(ctx context.Context, from string, dead []string) {
	if n.client() == nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, n.a.cfg.RequestTimeout)
	var st appState
	err := n.do(rctx, http.MethodGet, "/applications/"+url.PathEscape(from), nil, nil, &st)
	cancel()
	if err != nil {
		if statusOf(err) != http.StatusNotFound && ctx.Err() == nil {
			n.log.Warn("channels of a stopped instance not listed", zap.String("app", from), zap.Error(err))
		}
		return
	}
	for _, id := range st.ChannelIDs {
		if !n.claim(id, from) {
			continue
		}
		if err := n.move(ctx, id, from); err != nil {
			n.unclaim(id)
			if !gone(err) && ctx.Err() == nil {
				n.log.Warn("channel of a stopped instance not taken over; trying again", zap.String("call_ref", id), zap.String("app", from), zap.Error(err))
			}
			continue
		}
		n.stopDeadPlayback(ctx, id, dead)
		n.a.stats.CallsTakenOver.Add(1)
		n.log.Warn("taking over a channel of a stopped instance: its offer starts again", zap.String("call_ref", id), zap.String("app", from))
	}
}

// move subscribes our application to channel id, then moves it from
// application from into ours with its Stasis arguments.
func (n *node) move(ctx context.Context, id, from string) error {
	rctx, cancel := context.WithTimeout(ctx, n.a.cfg.RequestTimeout)
	defer cancel()
	app := url.PathEscape(n.a.cfg.App)
	if err := n.do(rctx, http.MethodPost, "/applications/"+app+"/subscription", url.Values{"eventSource": {"channel:" + id}}, nil, nil); err != nil {
		if statusOf(err) == http.StatusUnprocessableEntity {
			err = &restError{code: http.StatusNotFound, msg: "channel gone"}
		}
		return err
	}
	snap, err := n.channel(rctx, id)
	if err != nil {
		return err
	}
	q := url.Values{"app": {n.a.cfg.App}}
	if name, args, ok := strings.Cut(snap.Dialplan.AppData, ","); ok && strings.EqualFold(snap.Dialplan.AppName, "Stasis") && name == from {
		q.Set("appArgs", args)
	}
	return n.do(rctx, http.MethodPost, "/channels/"+url.PathEscape(id)+"/move", q, nil, nil)
}

// stopDeadPlayback stops the playback a stopped instance left running on
// channel id, which holds up the move: each id it may have
// (call.playbackID), at once; all but the one playing are 404s.
func (n *node) stopDeadPlayback(ctx context.Context, id string, dead []string) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, inst := range dead {
		for i := int64(1); i <= maxPlays; i++ {
			pb := deadPlaybackID(inst, id, i)
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				rctx, cancel := context.WithTimeout(ctx, n.a.cfg.RequestTimeout)
				defer cancel()
				if err := n.do(rctx, http.MethodDelete, "/playbacks/"+url.PathEscape(pb), nil, nil, nil); err == nil {
					n.log.Info("stopped the playback a stopped instance left running", zap.String("call_ref", id))
				}
			})
		}
	}
	wg.Wait()
}

// claim marks channel id as being taken over from application from;
// false when it is ours already or being taken over.
func (n *node) claim(id, from string) bool {
	now := n.a.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ours := n.channels[id]; ours {
		return false
	}
	if t := n.taking[id]; t != nil && now.Sub(t.since) < takeoverFor {
		return false
	}
	n.taking[id] = &takeover{since: now, from: from, stopped: map[string]bool{}}
	return true
}

func (n *node) unclaim(id string) {
	n.mu.Lock()
	delete(n.taking, id)
	n.mu.Unlock()
}

// earlyKey keeps a key of a channel being taken over, for its dialogue;
// false when the channel is not being taken over.
func (n *node) earlyKey(id, digit string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.taking[id]
	if t == nil {
		return false
	}
	t.keys = append(t.keys, ivr.Key{Digit: digit, At: n.a.now()})
	return true
}

// foreignPlayback stops a playback of the stopped instance on a channel
// being taken over: the move waits for it. It runs on the router: the
// request goes on a goroutine of the node's.
func (n *node) foreignPlayback(pb ariv5.PlaybackData) {
	id, ok := strings.CutPrefix(pb.TargetURI, "channel:")
	if !ok || pb.ID == "" {
		return
	}
	n.mu.Lock()
	t := n.taking[id]
	stop := t != nil && !t.stopped[pb.ID] && n.calls != nil && n.calls.Err() == nil
	if stop {
		t.stopped[pb.ID] = true
		n.wg.Add(1)
	}
	n.mu.Unlock()
	if !stop {
		return
	}
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.calls, n.a.cfg.RequestTimeout)
		defer cancel()
		if err := n.do(ctx, http.MethodDelete, "/playbacks/"+url.PathEscape(pb.ID), nil, nil, nil); err != nil && !gone(err) {
			n.log.Debug("playback of a stopped instance not stopped", zap.String("call_ref", id), zap.Error(err))
		}
	}()
}

// takenOver ends the takeover of channel id, now that its StasisStart came
// or it is gone: it returns the keys heard meanwhile and whether it was
// taken over.
func (n *node) takenOver(id string) ([]ivr.Key, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.taking[id]
	if t == nil {
		return nil, false
	}
	delete(n.taking, id)
	return t.keys, true
}

// unsubscribe ends our explicit subscription to a channel we took over:
// its Stasis holds it for us now.
func (c *call) unsubscribe(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, c.n.a.cfg.RequestTimeout)
	defer cancel()
	err := c.n.do(rctx, http.MethodDelete, "/applications/"+url.PathEscape(c.n.a.cfg.App)+"/subscription",
		url.Values{"eventSource": {"channel:" + c.id}}, nil, nil)
	if err != nil && !gone(err) && statusOf(err) != http.StatusUnprocessableEntity {
		c.log().Debug("subscription to a channel taken over not ended", zap.Error(err))
	}
}
