package ivr

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// Prompts composes what a prompt sounds like for a call. *prompts.Catalog
// satisfies it.
type Prompts interface {
	Compose(lang string, id prompts.ID, vars prompts.Vars) (prompts.Playback, error)
}

// Key is one DTMF key from the provider.
type Key struct {
	Digit string
	At    time.Time
}

// Call is what the dialogue needs of a live call (Asterisk: one channel).
// The ARI adapter implements it; ivrtest has a fake.
type Call interface {
	// Play plays pb and returns when it ended: played to the end, stopped
	// because ctx was cancelled (barge-in), or the call ended. It returns
	// how many milliseconds were played. An error means the prompt, or
	// part of it, was not played (preferably a *PlayError): the dialogue
	// ends with outcome error instead of waiting for a key in silence.
	Play(ctx context.Context, pb prompts.Playback) (playedMS int64, err error)
	// Keys delivers the caller's keys.
	Keys() <-chan Key
	// Hangup ends the call; Continue hands it back to the dialplan.
	Hangup(ctx context.Context) error
	Continue(ctx context.Context) error
	// Done is closed when the call has ended.
	Done() <-chan struct{}
}

// PlayError is a prompt the provider could not play, as a Call reports
// it.
type PlayError struct {
	// Kind classifies the failure for the metric: "not_found" (the node
	// could not play a sound), "refused" (the play request failed), "lost"
	// (the node stopped answering about it).
	Kind string
	// Media is what failed, e.g. "sound:verzet/nl/offer-1", when known.
	Media string
	// Detail says what happened, e.g. "not found".
	Detail string
}

func (e *PlayError) Error() string {
	if e.Media == "" {
		return e.Detail
	}
	return e.Media + " " + e.Detail
}

// playFailure is the reason an offer record keeps for err, and the kind
// the metric counts.
func playFailure(err error) (reason, kind string) {
	var pe *PlayError
	if errors.As(err, &pe) {
		return "playback_failed: " + pe.Error(), pe.Kind
	}
	return "playback_failed: " + err.Error(), "other"
}

// Dialogue runs the machine: Run drives a live Call (one goroutine per
// call, owned by the adapter), Turn drives one webhook step (Twilio). Both
// use the same Machine, Keeper and Prompts.
type Dialogue struct {
	keeper  *Keeper
	prompts Prompts
	log     *zap.Logger
	now     func() time.Time
}

// NewDialogue returns a dialogue runner. now may be nil (time.Now).
func NewDialogue(k *Keeper, p Prompts, log *zap.Logger, now func() time.Time) *Dialogue {
	if now == nil {
		now = time.Now
	}
	return &Dialogue{keeper: k, prompts: p, log: log, now: now}
}

// Keeper returns the dialogue's keeper.
func (d *Dialogue) Keeper() *Keeper { return d.keeper }

// callLog is the per-call child logger. Numbers are masked.
func (d *Dialogue) callLog(m *Machine) *zap.Logger {
	c := m.Context()
	number := c.Number
	if n, err := objections.DefaultNumbers().Normalize(number); err == nil {
		number = n
	}
	return d.log.With(zap.String("call_ref", c.CallRef), zap.String("provider", c.Provider), zap.String("org", c.Org),
		zap.String("number", objections.MaskNumber(number)), zap.String("campaign", c.CampaignRef))
}

func (d *Dialogue) vars(m *Machine) prompts.Vars {
	f := m.Flow()
	return prompts.Vars{OrgID: m.Context().Org, Org: f.OrgName, Voice: f.Voice, KeyObject: f.KeyObject, KeyDecline: f.KeyDecline}
}

// compose builds the playback for a prompt and notes the offer's identity in
// the state, so the evidence names exactly what was played.
func (d *Dialogue) compose(m *Machine, s *State, id prompts.ID, log *zap.Logger) (prompts.Playback, bool) {
	pb, err := d.prompts.Compose(m.Context().Language, id, d.vars(m))
	if err != nil {
		// The catalogue is checked at start-up, so this is a bug; the
		// dialogue goes on without the prompt rather than stall.
		log.Error("prompt missing", zap.String("prompt_id", string(id)), zap.String("lang", m.Context().Language), zap.Error(err))
		return prompts.Playback{}, false
	}
	if id == prompts.Offer {
		s.PromptVersion, s.PromptHash = pb.Version, pb.Hash
	}
	return pb, true
}

type played struct {
	prompt prompts.ID
	ms     int64
	failed string // why it failed; "" when it played (or was stopped)
}

// playedWait bounds how long a hang-up waits for the adapter to report how
// much of the prompt that was playing was heard (ARI: Asterisk's
// PlaybackFinished, which follows the hang-up within a second).
const playedWait = 2 * time.Second

// awaitPlayed waits, at most playedWait, for the result of the prompt that
// was playing when the call ended and returns its played time; without one
// in time it returns fallback. Results of earlier prompts that arrive first
// come back as EvPromptEnded events, in order.
func awaitPlayed(plays <-chan played, playing prompts.ID, fallback int64, now func() time.Time) (int64, []Event) {
	t := time.NewTimer(playedWait)
	defer t.Stop()
	var ended []Event
	for {
		select {
		case p := <-plays:
			if p.prompt == playing {
				return p.ms, ended
			}
			ended = append(ended, Event{Kind: EvPromptEnded, At: now(), Prompt: p.prompt, PlayedMS: p.ms})
		case <-t.C:
			return fallback, ended
		}
	}
}

// Run drives one live call until the dialogue ends, and returns the final
// state. It waits on every end condition at once: keys, the prompt playing,
// the key timeout, the durable write, the call ending and ctx. Cancelling
// ctx (shutdown) ends the call as the system.
func (d *Dialogue) Run(ctx context.Context, call Call, m *Machine) State {
	log := d.callLog(m)
	d.keeper.stats.Dialogues.Add(1)
	var (
		s        State
		queue    = []Event{{Kind: EvStart, At: d.now()}}
		wg       sync.WaitGroup
		opening  bool
		opened   = make(chan objections.Offer, 1)
		started  *objections.Offer
		plays    = make(chan played, 4) // one playing, one stopping, slack: senders never block
		recorded = make(chan Event, 1)
		stop     context.CancelFunc
		playing  prompts.ID
		since    time.Time
		duration int64
		timer    *time.Timer
		timeout  <-chan time.Time
		ended    bool
		keys     = call.Keys()
		done     = call.Done()
		ctxDone  = ctx.Done()
	)
	defer func() {
		if stop != nil {
			stop()
		}
		if timer != nil {
			timer.Stop()
		}
		wg.Wait()
	}()
	elapsed := func() int64 {
		if playing == "" {
			return 0
		}
		ms := d.now().Sub(since).Milliseconds()
		return min(ms, duration)
	}
	exec := func(a Action) {
		switch a.Kind {
		case ActPlay:
			pb, ok := d.compose(m, &s, a.Prompt, log)
			if !ok {
				queue = append(queue, Event{Kind: EvPromptEnded, At: d.now(), Prompt: a.Prompt})
				return
			}
			pctx, cancel := context.WithCancel(ctx)
			stop, playing, since, duration = cancel, a.Prompt, d.now(), pb.DurationMS
			wg.Add(1)
			go func(id prompts.ID) {
				defer wg.Done()
				ms, err := call.Play(pctx, pb)
				p := played{prompt: id, ms: ms}
				if err != nil && pctx.Err() == nil && !isDone(call.Done()) {
					// Not stopped by a key nor cut by the hang-up: the
					// caller did not hear it.
					var kind string
					p.failed, kind = playFailure(err)
					d.keeper.stats.PlaybackFailed(kind)
					log.Error("prompt not played; the offer is not made", zap.String("prompt_id", string(id)),
						zap.String("kind", kind), zap.Int64("played_ms", ms), zap.Error(err))
				}
				plays <- p
			}(a.Prompt)
		case ActStop:
			if stop != nil {
				stop()
			}
			playing = ""
		case ActRecord:
			wg.Add(1)
			go func(o objections.Objection) {
				defer wg.Done()
				recorded <- d.keeper.Record(ctx, log, o)
			}(a.Objection)
		case ActClose:
			o := a.Offer
			if opening && started == nil {
				st := <-opened // bounded by the keeper's store timeout
				started = &st
			}
			if started != nil && o.PreviousOfferID == "" {
				o.PreviousOfferID = started.PreviousOfferID
			}
			d.keeper.Close(ctx, log, o)
		case ActHangup, ActContinue:
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			var err error
			if a.Kind == ActHangup {
				err = call.Hangup(hctx)
			} else {
				err = call.Continue(hctx)
			}
			cancel()
			if err != nil {
				log.Info("call already gone at the end of the dialogue", zap.Error(err))
			}
		}
	}
	for {
		for len(queue) > 0 {
			e := queue[0]
			queue = queue[1:]
			var acts []Action
			s, acts = m.Next(s, e)
			for _, a := range acts {
				exec(a)
			}
			if !opening && s.OfferID != "" && s.Phase != PhaseDone {
				// The offer's in_progress record, written as it starts to
				// play (after exec: the record names the prompt version),
				// alongside the playback rather than before it, so that
				// a slow store never delays the audio. Close waits for it.
				opening = true
				o := m.offer(s)
				wg.Add(1)
				go func() {
					defer wg.Done()
					st, _ := d.keeper.Open(ctx, log, o)
					opened <- st
				}()
			}
		}
		if s.Phase == PhaseDone {
			return s
		}
		// The key timer runs while the offer waits for a key.
		waiting := s.Phase == PhaseOffer && s.Playing == "" && !s.HungUp
		switch {
		case waiting && timeout == nil:
			timer = time.NewTimer(m.Flow().Timeout)
			timeout = timer.C
		case !waiting && timeout != nil:
			timer.Stop()
			timeout = nil
		}
		select {
		case k := <-keys:
			queue = append(queue, Event{Kind: EvDigit, At: k.At, Digit: k.Digit})
		case p := <-plays:
			if p.prompt == playing {
				playing = ""
			}
			e := Event{Kind: EvPromptEnded, At: d.now(), Prompt: p.prompt, PlayedMS: p.ms}
			if p.failed != "" {
				e.Kind, e.Reason = EvPromptFailed, p.failed
			}
			queue = append(queue, e)
		case <-timeout:
			timeout = nil
			queue = append(queue, Event{Kind: EvTimeout, At: d.now()})
		case e := <-recorded:
			queue = append(queue, e)
		case <-done:
			done = nil
			if !ended {
				ended = true
				// Keys that arrived before the hang-up come first: a 1
				// pressed just before hanging up is an objection.
				queue = append(queue, drainKeys(keys)...)
				ms := elapsed()
				if playing != "" {
					// The evidence takes what the provider reported of
					// the prompt cut short, not this side's clock.
					var ended []Event
					ms, ended = awaitPlayed(plays, playing, ms, d.now)
					queue = append(queue, ended...)
					playing = ""
				}
				queue = append(queue, Event{Kind: EvHangup, At: d.now(), PlayedMS: ms})
			}
		case <-ctxDone:
			ctxDone = nil
			if !ended {
				ended = true
				queue = append(queue, Event{Kind: EvHangup, At: d.now(), PlayedMS: elapsed(), By: objections.EndedBySystem})
				hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_ = call.Hangup(hctx) // shutting down: the call may be gone already
				cancel()
			}
		}
	}
}

// Reply is what one webhook answers: the prompts to play in order, then
// either gather one key (with the offer still counted as playing, so a key
// is a barge-in) or end the call.
type Reply struct {
	Plays    []prompts.Playback
	Gather   bool
	Timeout  time.Duration
	Hangup   bool
	Continue bool
}

// Turn drives one webhook step: it applies events to s, records and closes
// through the keeper synchronously (so an objection is durable before the
// reply that confirms it is sent), and assumes every prompt it returns
// plays to its end, as TwiML does, until the dialogue waits for a key or
// ends. The adapter stores the returned state for the next webhook and
// reports, on that webhook, how much of the gathered prompt was heard.
func (d *Dialogue) Turn(ctx context.Context, m *Machine, s State, events ...Event) (State, Reply) {
	log := d.callLog(m)
	if s.Phase == 0 {
		d.keeper.stats.Dialogues.Add(1)
	}
	var r Reply
	queue := append([]Event(nil), events...)
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		var acts []Action
		s, acts = m.Next(s, e)
		for i, a := range acts {
			switch a.Kind {
			case ActPlay:
				pb, ok := d.compose(m, &s, a.Prompt, log)
				if ok {
					r.Plays = append(r.Plays, pb)
				}
				gathered := i+1 < len(acts) && acts[i+1].Kind == ActCollect
				if !gathered {
					queue = append(queue, Event{Kind: EvPromptEnded, At: e.At, Prompt: a.Prompt, PlayedMS: pb.DurationMS})
				}
			case ActCollect:
				r.Gather, r.Timeout = true, a.Timeout
			case ActRecord:
				queue = append(queue, d.keeper.Record(ctx, log, a.Objection))
			case ActClose:
				d.keeper.Close(ctx, log, a.Offer)
			case ActHangup:
				r.Hangup = true
			case ActContinue:
				r.Continue = true
			}
		}
	}
	if r.Gather && s.Phase == PhaseDone {
		r.Gather = false
	}
	return s, r
}

// isDone reports whether ch is closed.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// drainKeys takes the keys already waiting on ch without blocking.
func drainKeys(ch <-chan Key) []Event {
	var evs []Event
	for {
		select {
		case k := <-ch:
			evs = append(evs, Event{Kind: EvDigit, At: k.At, Digit: k.Digit})
		default:
			return evs
		}
	}
}
