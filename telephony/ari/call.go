package ari

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/rid"
	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// call is one channel in Stasis, driven by one ivr dialogue.
type call struct {
	n       *node
	id      string
	key     *ariv5.Key
	logp    atomic.Pointer[zap.Logger] // gains org and masked number once known
	created time.Time

	keys    chan ivr.Key
	done    chan struct{}
	endOnce sync.Once

	playMu  sync.Mutex // one playback at a time, each stopped before the next
	playing atomic.Pointer[string]
	handBk  atomic.Bool // Continue asked for
}

var _ ivr.Call = (*call)(nil)

func newCall(n *node, id string) *call {
	// keys holds what a caller can press while the dialogue is busy for a
	// moment (recording, a REST call); 16 is far above what the dialogue
	// reads between two selects.
	c := &call{n: n, id: id, key: ariv5.NewKey(ariv5.ChannelKey, id), created: n.a.now(),
		keys: make(chan ivr.Key, 16), done: make(chan struct{})}
	c.logp.Store(n.log.With(zap.String("call_ref", id)))
	return c
}

func (c *call) log() *zap.Logger { return c.logp.Load() }

// end marks the call ended. A key pressed just before the hang-up may
// still be queued: the dialogue reads it before it sees the end, or the
// hang-up could win its select and the key — an objection — be lost.
func (c *call) end() {
	c.endOnce.Do(func() {
		if len(c.keys) == 0 {
			close(c.done)
			return
		}
		c.n.wg.Add(1)
		go func() {
			defer c.n.wg.Done()
			defer close(c.done)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			limit := time.NewTimer(keyDrain)
			defer limit.Stop()
			for len(c.keys) > 0 {
				select {
				case <-tick.C:
				case <-limit.C:
					return
				}
			}
		}()
	})
}

// keyDrain bounds how long a hang-up waits for queued keys to be read.
const keyDrain = 200 * time.Millisecond

func (c *call) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *call) press(digit string) {
	select {
	case c.keys <- ivr.Key{Digit: digit, At: c.n.a.now()}:
	default:
		c.n.a.stats.KeysDropped.Add(1)
	}
}

// handle returns the channel's ari/v5 handle on the node's current client.
func (c *call) handle() (*ariv5.ChannelHandle, error) {
	cl := c.n.client()
	if cl == nil {
		return nil, errNotConnected
	}
	return cl.Channel().Get(c.key), nil
}

// run handles the channel from StasisStart (data, args) or from a reconcile
// (data nil: read from Asterisk) to the end of its dialogue.
func (c *call) run(ctx context.Context, draining bool, data *ariv5.ChannelData, args []string) {
	info, state, err := c.info(ctx, data, args)
	if err != nil {
		if gone(err) {
			c.log().Info("channel gone before its dialogue began")
		} else {
			c.log().Warn("channel not readable; handing it back to the dialplan", zap.Error(err))
			c.refuse(ctx, "error")
		}
		return
	}
	if draining {
		c.refuse(ctx, "shutdown")
		return
	}
	ictx := ivrContext(info, c.n.a.cfg.DefaultOrg)
	c.logp.Store(c.log().With(zap.String("org", ictx.Org), zap.String("number", objections.MaskNumber(ictx.Number))))
	if ictx.Org == "" {
		c.log().Error("channel names no org (VERZET_ORG) and no default org is set; handing it back to the dialplan")
		c.refuse(ctx, "no_org")
		return
	}
	if !strings.EqualFold(state, "Up") {
		if err := c.answer(); err != nil {
			if gone(err) {
				c.log().Info("channel gone before it was answered")
				return
			}
			c.log().Warn("answer failed; trying the dialogue anyway", zap.Error(err))
		}
	}
	flow, lang := c.n.a.flows(ctx, ictx.Org, ictx.Language)
	ictx.Language = lang
	c.n.a.stats.CallsStarted.Add(1)
	s := c.n.a.dialogue.Run(ctx, c, ivr.NewMachine(flow, ictx))
	if c.handBk.Load() && !c.ended() {
		c.handBack(ctx, string(s.Outcome), "")
	}
}

// info gathers the dialogue's context: Stasis arguments first, then the
// channel variables in the snapshot (ari.conf channelvars), then one GET
// per variable still missing.
func (c *call) info(ctx context.Context, data *ariv5.ChannelData, args []string) (callInfo, string, error) {
	info := callInfo{id: c.id}
	var state string
	var chvars map[string]string
	if data == nil {
		rctx, cancel := context.WithTimeout(ctx, c.n.a.cfg.RequestTimeout)
		snap, err := c.n.channel(rctx, c.id)
		cancel()
		if err != nil {
			return info, "", err
		}
		state, info.caller, info.connected, chvars = snap.State, snap.Caller.Number, snap.Connected.Number, snap.ChannelVars
		if name, rest, ok := strings.Cut(snap.Dialplan.AppData, ","); ok && strings.EqualFold(snap.Dialplan.AppName, "Stasis") && name == c.n.a.cfg.App {
			args = strings.Split(rest, ",")
		}
	} else {
		state, chvars = data.State, data.ChannelVars
		if data.Caller != nil {
			info.caller = data.Caller.Number
		}
		if data.Connected != nil {
			info.connected = data.Connected.Number
		}
	}
	info.vars = parseArgs(args)
	for _, name := range contextVars {
		if _, ok := info.vars[name]; ok {
			continue
		}
		if v, ok := chvars[name]; ok {
			info.vars[name] = v
			continue
		}
		if c.ended() {
			return info, state, &restError{code: http.StatusNotFound, msg: "channel hung up"}
		}
		h, err := c.handle()
		if err != nil {
			return info, state, err
		}
		v, err := h.GetVariable(name)
		switch {
		case err == nil:
			info.vars[name] = v
		case statusOf(err) == http.StatusNotFound:
			// An unset variable is 404 too; a channel that is gone shows
			// at the next step.
		default:
			return info, state, err
		}
	}
	return info, state, nil
}

func (c *call) answer() error {
	h, err := c.handle()
	if err != nil {
		return err
	}
	return h.Answer()
}

// refuse hands a channel back to the dialplan without a dialogue, marked
// VERZET_RESULT=refused so that the dialplan can try another instance.
func (c *call) refuse(ctx context.Context, reason string) {
	c.n.a.stats.CallsRefused.Add(1)
	c.log().Warn("channel handed back to the dialplan without the offer", zap.String("reason", reason))
	c.handBack(ctx, "refused", reason)
}

// handBack sets VERZET_RESULT (and VERZET_REFUSED) and continues the
// channel at the priority after Stasis().
func (c *call) handBack(ctx context.Context, result, refused string) {
	h, err := c.handle()
	if err != nil {
		c.log().Warn("channel not handed back to the dialplan", zap.Error(err))
		return
	}
	if err := h.SetVariable(VarResult, result); err != nil && !gone(err) {
		c.log().Warn("VERZET_RESULT not set", zap.Error(err))
	}
	if refused != "" {
		if err := h.SetVariable(VarRefused, refused); err != nil && !gone(err) {
			c.log().Warn("VERZET_REFUSED not set", zap.Error(err))
		}
	}
	// ari/v5 always sends context, extension and priority; empty and 0
	// mean "the next priority" to Asterisk.
	if err := h.Continue("", "", 0); err != nil && !gone(err) {
		c.log().Warn("channel not handed back to the dialplan", zap.Error(err))
	}
}

// Keys implements ivr.Call.
func (c *call) Keys() <-chan ivr.Key { return c.keys }

// Done implements ivr.Call: closed on ChannelHangupRequest or StasisEnd (a
// plain app gets no ChannelDestroyed), or when the channel is found gone.
func (c *call) Done() <-chan struct{} { return c.done }

// Hangup implements ivr.Call. A channel already gone is not an error.
func (c *call) Hangup(ctx context.Context) error {
	h, err := c.handle()
	if err != nil {
		return err
	}
	if err := h.Hangup(); err != nil && !gone(err) {
		return err
	}
	c.end()
	return nil
}

// Continue implements ivr.Call. The channel is handed back right after the
// dialogue returns, with the outcome in VERZET_RESULT.
func (c *call) Continue(ctx context.Context) error {
	c.handBk.Store(true)
	return nil
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
