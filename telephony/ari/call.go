package ari

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
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
	hungUp  atomic.Bool // end was called: set at once, before done closes

	playMu  sync.Mutex // one playback at a time, each stopped before the next
	playing atomic.Pointer[string]
	plays   atomic.Int64    // playbacks started, for their ids
	pbs     *queue[pbEvent] // events of the playback being played
	handBk  atomic.Bool     // Continue asked for
	// takenOver: the channel came from a stopped instance's application
	// (takeover.go); set before run.
	takenOver bool
}

var _ ivr.Call = (*call)(nil)

func newCall(n *node, id string) *call {
	// keys holds what a caller can press while the dialogue is busy for a
	// moment (recording, a REST call); 16 is far above what the dialogue
	// reads between two selects.
	c := &call{n: n, id: id, key: ariv5.NewKey(ariv5.ChannelKey, id), created: n.a.now(),
		keys: make(chan ivr.Key, 16), done: make(chan struct{}), pbs: newQueue[pbEvent]()}
	c.logp.Store(n.log.With(zap.String("call_ref", id)))
	return c
}

func (c *call) log() *zap.Logger { return c.logp.Load() }

// end marks the call ended. A key pressed just before the hang-up may
// still be queued: the dialogue reads it before it sees the end, or the
// hang-up could win its select and the key — an objection — be lost.
func (c *call) end() {
	c.hungUp.Store(true)
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

// cut reports whether the call is ending: its end was seen, though done
// may still wait for queued keys. A playback Asterisk ends "failed" then
// was cut by the hang-up, not missing.
func (c *call) cut() bool { return c.hungUp.Load() }

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
	if c.takenOver {
		c.unsubscribe(ctx)
		c.log().Warn("channel taken over from a stopped instance: the offer starts again", zap.Int("keys_pressed_meanwhile", len(c.keys)))
	}
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
