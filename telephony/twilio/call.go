package twilio

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// Calls keeps the per-call record between webhooks, keyed by CallSid, so
// that any verzet instance can take any webhook of a call.
// *postgres.Store and *sqlite.Store satisfy it.
type Calls interface {
	// LoadCall returns the call's state; ENOTFOUND when there is none.
	LoadCall(ctx context.Context, provider, ref string) (objections.CallState, error)
	// SaveCall creates (Version 1) or replaces (previous Version + 1) the
	// call's state; ECONFLICT when another instance saved first.
	SaveCall(ctx context.Context, st objections.CallState) error
}

// provider is the objections provider name and the CallState provider.
const provider = "twilio"

// recordFormat is the version of callRecord's encoding: 2 stores the
// dialogue phase and the flow's profile by name. Format 1 stored their
// integers; ivr still reads those, so records of calls in flight across an
// upgrade load. (An instance of a build before format 2 cannot read a
// format 2 record: it answers as for an unknown call.)
const recordFormat = 2

// oldestFormat is the oldest encoding this build reads.
const oldestFormat = 1

// maxReplies bounds the TwiML kept for retries. A dialogue has at most
// MaxInvalid + MaxNoInput + 2 steps; the flow's limits keep it far below.
const maxReplies = 32

// callRecord is what verzet keeps of a call between webhooks (the Data of
// its objections.CallState): the dialogue state, the context to rebuild
// the machine, and the webhook bookkeeping.
type callRecord struct {
	Format int      `json:"format"`
	Call   callInfo `json:"call"`
	// Flow pins the org's flow for the whole call, whatever instance takes
	// a webhook and whatever changes in the org's settings meanwhile.
	Flow  ivr.Flow  `json:"flow"`
	State ivr.State `json:"state"`
	// Next is the step of the webhook the last TwiML leads to: its Gather
	// action and Redirect carry step=Next. A webhook with a lower step was
	// answered already and gets its stored reply again.
	Next int `json:"next"`
	// ServedAt is when the last TwiML was answered; BeforeMS the playing
	// time of its prompts before the offer, OfferMS the offer's. From them
	// the next webhook tells the machine how much of the offer was heard.
	ServedAt time.Time `json:"served_at"`
	BeforeMS int64     `json:"before_ms"`
	OfferMS  int64     `json:"offer_ms"`
	// Gathering is true when the last TwiML gathers a key.
	Gathering bool `json:"gathering"`
	// Replies is the TwiML answered per webhook step (0 is the voice
	// webhook), for retried webhooks.
	Replies map[int]string `json:"replies"`
	// StatusSeq is the highest status callback SequenceNumber applied, -1
	// before the first.
	StatusSeq int64 `json:"status_seq"`
	// Resumed is true when the record was started at /twilio/gather for a
	// call verzet had no state of (see Handler).
	Resumed bool `json:"resumed,omitempty"`
}

// callInfo is the call's context: ivr.Context plus the parameters for the
// action URLs.
type callInfo struct {
	Org        string `json:"org"`
	Agency     string `json:"agency,omitempty"`
	Number     string `json:"number,omitempty"`
	Presented  string `json:"presented,omitempty"`
	Lang       string `json:"lang"`
	Campaign   string `json:"campaign,omitempty"`
	Lead       string `json:"lead,omitempty"`
	Agent      string `json:"agent,omitempty"`
	DialerCall string `json:"dialer_call,omitempty"`
	Announced  bool   `json:"announced,omitempty"`
	// Query is the context query string of the action URLs (without step).
	Query string `json:"query"`
}

// newRecord starts the record of a call.
func newRecord(info callInfo, flow ivr.Flow) *callRecord {
	return &callRecord{Call: info, Flow: flow, StatusSeq: -1}
}

// machine rebuilds the call's dialogue machine.
func (r *callRecord) machine(sid string) *ivr.Machine {
	c := r.Call
	return ivr.NewMachine(r.Flow, ivr.Context{
		Org: c.Org, Agency: c.Agency, Number: c.Number, PresentedNumber: c.Presented, Language: c.Lang, Provider: provider, CallRef: sid,
		DialerCallRef: c.DialerCall, CampaignRef: c.Campaign, LeadRef: c.Lead, AgentRef: c.Agent, Announced: c.Announced,
	})
}

// latest is the TwiML last answered.
func (r *callRecord) latest() []byte {
	for s := r.Next - 1; s >= 0; s-- {
		if t, ok := r.Replies[s]; ok {
			return []byte(t)
		}
	}
	return hangupDocument()
}

// reply is the TwiML answered to step, or the latest when it was dropped.
func (r *callRecord) reply(step int) []byte {
	if t, ok := r.Replies[step]; ok {
		return []byte(t)
	}
	return r.latest()
}

// served notes the TwiML answered to webhook step and what it plays.
func (r *callRecord) served(step int, doc []byte, reply ivr.Reply, at time.Time) {
	if r.Replies == nil {
		r.Replies = map[int]string{}
	}
	r.Replies[step] = string(doc)
	for s := range r.Replies {
		if s <= step-maxReplies {
			delete(r.Replies, s)
		}
	}
	r.Next, r.ServedAt = step+1, at
	r.timing(reply)
}

// timing notes whether reply gathers a key and the playing time of its
// offer and of the prompts before it.
func (r *callRecord) timing(reply ivr.Reply) {
	r.Gathering, r.BeforeMS, r.OfferMS = reply.Gather, 0, 0
	if !reply.Gather {
		return
	}
	// The offer is the last prompt of a gathering reply ("not valid",
	// "I repeat" come before it).
	for i := len(reply.Plays) - 1; i >= 0; i-- {
		if reply.Plays[i].ID == prompts.Offer {
			r.OfferMS = reply.Plays[i].DurationMS
			for _, pb := range reply.Plays[:i] {
				r.BeforeMS += pb.DurationMS
			}
			return
		}
	}
}

// heard is how many ms of the offer had played at t, and whether the
// offer was still playing then.
func (r *callRecord) heard(t time.Time) (ms int64, playing bool) {
	if r.ServedAt.IsZero() {
		// Resumed without a served time: nothing is known of the timing.
		return 0, true
	}
	elapsed := t.Sub(r.ServedAt).Milliseconds()
	ms = min(max(elapsed-r.BeforeMS, 0), r.OfferMS)
	return ms, elapsed < r.BeforeMS+r.OfferMS
}

// clone copies r so that a step can change it.
func (r *callRecord) clone() *callRecord {
	c := *r
	c.Replies = make(map[int]string, len(r.Replies))
	for k, v := range r.Replies {
		c.Replies[k] = v
	}
	c.State.Keys = slices.Clone(r.State.Keys)
	return &c
}

// stored is a call's record with the store's version.
type stored struct {
	rec     *callRecord
	version int64 // 0: not in the store
}

func decodeRecord(st objections.CallState) (*callRecord, error) {
	var r callRecord
	if err := json.Unmarshal(st.Data, &r); err != nil {
		return nil, objections.Invalid("call state", st.Ref, "is not a Twilio call record: %v", err)
	}
	if r.Format < oldestFormat || r.Format > recordFormat {
		return nil, objections.Invalid("call state", st.Ref, "has record format %d, this build reads %d to %d", r.Format, oldestFormat, recordFormat)
	}
	return &r, nil
}

// step is one webhook's change to a call: given the stored record (nil
// when the call is unknown or the store unreadable) it returns the record
// to save (nil: nothing changed) and the document to answer. A nil answer
// with a record asks apply to save the record first and run the step
// again on it; /twilio/gather uses that to create an unknown call's record
// before it applies the key, so that two instances taking the same
// webhook at once share one dialogue.
type step func(cur *callRecord) (next *callRecord, answer []byte)

// maxAttempts bounds the optimistic retries of one webhook. Only the
// webhooks of one call race, and a call has few.
const maxAttempts = 8

// apply runs fn on the call's record and saves the result with the next
// version, loading again and rerunning fn when another instance saved
// first. Everything fn does besides the record (the objection, the offer)
// is idempotent per CallSid in the store, so a rerun records nothing
// twice. When the store cannot be read or written the webhook is still
// answered: the key press is durable through the keeper (store or spool)
// before fn returns, and the next webhook falls back as for an unknown
// call.
func (h *Handler) apply(ctx context.Context, log *zap.Logger, sid string, fn step) []byte {
	for attempt := 1; ; attempt++ {
		cur, err := h.load(ctx, sid)
		if err != nil && objections.ErrorCode(err) != objections.ENOTFOUND {
			h.stats.StoreErrors.Add(1)
			log.Error("call record unreadable; answering without it", zap.Error(err))
		}
		for {
			next, answer := fn(cur.rec)
			if next == nil {
				return answer
			}
			serr := h.save(ctx, sid, next, cur.version+1)
			code := objections.ErrorCode(serr)
			switch {
			case serr == nil:
				if answer != nil {
					return answer
				}
				cur = stored{rec: next, version: cur.version + 1}
				continue // run the step on the record just created
			case (code == objections.ECONFLICT || code == objections.ENOTFOUND) && attempt < maxAttempts:
				h.stats.Conflicts.Add(1)
				log.Debug("call record changed by another webhook; retrying", zap.Int("attempt", attempt))
			default:
				h.stats.StoreErrors.Add(1)
				log.Error("call record not saved; answering anyway", zap.Int("attempt", attempt), zap.Error(serr))
				if answer != nil {
					return answer
				}
				cur = stored{rec: next}
				continue
			}
			break
		}
	}
}

func (h *Handler) load(ctx context.Context, sid string) (stored, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.StoreTimeout)
	defer cancel()
	st, err := h.calls.LoadCall(ctx, provider, sid)
	if err != nil {
		return stored{}, err
	}
	rec, err := decodeRecord(st)
	if err != nil {
		return stored{}, err
	}
	return stored{rec: rec, version: st.Version}, nil
}

func (h *Handler) save(ctx context.Context, sid string, rec *callRecord, version int64) error {
	rec.Format = recordFormat
	data, err := json.Marshal(rec)
	if err != nil {
		return objections.Internal("encode call record", err)
	}
	// Detached: a caller who hangs up must not cancel the record of the
	// key they pressed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.StoreTimeout)
	defer cancel()
	return h.calls.SaveCall(ctx, objections.CallState{Provider: provider, Ref: sid, Version: version, Data: data, UpdatedAt: h.now()})
}
