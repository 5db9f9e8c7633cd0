package ivr

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

// Recorder is what the dialogue needs of the register: prepare a record
// (validate, stamp id and time) and commit it. *objections.Register
// satisfies it.
type Recorder interface {
	Prepare(o objections.Objection) (objections.Objection, error)
	Commit(ctx context.Context, o objections.Objection) (objections.Objection, bool, error)
	PrepareOffer(o objections.Offer) (objections.Offer, error)
	CommitOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error)
	// StartOffer writes the in_progress record of an offer that begins.
	StartOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error)
}

// Spool keeps a prepared record on local disk, fsync'd, when the store
// cannot take it; it is replayed into the store later. *spool.Spool
// satisfies it.
type Spool interface {
	AppendObjection(o objections.Objection) error
	AppendOffer(o objections.Offer) error
}

// Stats counts what matters for alerting. Read with the Load methods; cmd
// exports them as Prometheus metrics.
type Stats struct {
	Dialogues     atomic.Int64 // dialogues started
	Objections    atomic.Int64 // objections made durable (store or spool)
	StoreFailures atomic.Int64 // key presses the store did not take at once
	Spooled       atomic.Int64 // records written to the spool instead
	Lost          atomic.Int64 // records neither the store nor the spool took
	RecordLatency atomic.Int64 // sum of key-to-durable nanoseconds
	OfferFailures atomic.Int64 // offers (evidence) spooled or lost
	// OfferStartFailures counts in_progress records the store did not take
	// (the final record is still written, or spooled).
	OfferStartFailures atomic.Int64

	playFailures sync.Map // kind → *atomic.Int64
}

// PlaybackFailed counts one prompt that could not be played, by kind (see
// PlayError.Kind).
func (s *Stats) PlaybackFailed(kind string) {
	v, _ := s.playFailures.LoadOrStore(kind, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// PlaybackFailures returns the prompts that could not be played so far, by
// kind.
func (s *Stats) PlaybackFailures() map[string]int64 {
	out := map[string]int64{}
	s.playFailures.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Keeper makes records durable: the store first, the spool when the store
// fails. Both runners use it, so the rule "durable before the confirmation"
// lives in one place.
type Keeper struct {
	rec      Recorder
	spool    Spool
	log      *zap.Logger
	stats    *Stats
	timeout  time.Duration
	now      func() time.Time
	instance string
}

// KeeperOption configures a Keeper.
type KeeperOption func(*Keeper)

// WithStoreTimeout bounds each store write (default 2 s): past it the key
// press goes to the spool so that the caller is not kept waiting.
func WithStoreTimeout(d time.Duration) KeeperOption { return func(k *Keeper) { k.timeout = d } }

// WithClock injects the clock used for latency figures.
func WithClock(now func() time.Time) KeeperOption { return func(k *Keeper) { k.now = now } }

// WithInstance names the instance whose offers the keeper writes
// (objections.Offer.Instance): the id of its heartbeat row.
func WithInstance(id string) KeeperOption { return func(k *Keeper) { k.instance = id } }

// NewKeeper returns a keeper. spool may be nil (then a store failure is an
// error outcome), stats may be nil.
func NewKeeper(rec Recorder, spool Spool, log *zap.Logger, stats *Stats, opts ...KeeperOption) *Keeper {
	if stats == nil {
		stats = &Stats{}
	}
	k := &Keeper{rec: rec, spool: spool, log: log, stats: stats, timeout: 2 * time.Second, now: time.Now}
	for _, o := range opts {
		o(k)
	}
	return k
}

// Stats returns the keeper's counters.
func (k *Keeper) Stats() *Stats { return k.stats }

// Record makes the objection durable and returns the event to feed the
// machine: EvRecorded (from the store, or Spooled) or EvRecordFailed. It
// runs on a context detached from the call's: once the key is pressed the
// write completes even if the caller hangs up the next millisecond.
func (k *Keeper) Record(ctx context.Context, log *zap.Logger, o objections.Objection) Event {
	start := k.now()
	ctx = context.WithoutCancel(ctx)
	p, err := k.rec.Prepare(o)
	if objections.ErrorCode(err) == objections.EINVALID && o.RawNumber != "" {
		// An unusable number must not lose the key press: keep it against
		// the call and dialer references for review (docs/compliance.md §5.11).
		// The error names the number; it is not logged.
		log.Warn("customer number unusable; objection kept as pending_number", zap.String("code", objections.ErrorCode(err)))
		o.Note = trimNote("number as received: " + o.RawNumber + ". " + o.Note)
		o.RawNumber, o.Number = "", ""
		p, err = k.rec.Prepare(o)
	}
	if err != nil {
		k.stats.Lost.Add(1)
		log.Error("objection cannot be recorded: invalid", zap.Error(err))
		return Event{Kind: EvRecordFailed, At: k.now()}
	}
	wctx, cancel := context.WithTimeout(ctx, k.timeout)
	rec, _, err := k.rec.Commit(wctx, p)
	cancel()
	if err == nil {
		k.done(start)
		log.Info("objection recorded", zap.String("objection_id", rec.ID))
		return Event{Kind: EvRecorded, At: k.now(), ObjectionID: rec.ID}
	}
	k.stats.StoreFailures.Add(1)
	if k.spool != nil {
		if serr := k.spool.AppendObjection(p); serr == nil {
			k.stats.Spooled.Add(1)
			k.done(start)
			log.Error("store did not take the objection; spooled for replay", zap.String("objection_id", p.ID), zap.Error(err))
			return Event{Kind: EvRecorded, At: k.now(), ObjectionID: p.ID, Spooled: true}
		} else {
			log.Error("spool did not take the objection either", zap.Error(serr))
		}
	}
	k.stats.Lost.Add(1)
	log.Error("objection not recorded: store failed and no spool took it", zap.String("objection_id", p.ID), zap.Error(err))
	return Event{Kind: EvRecordFailed, At: k.now()}
}

func (k *Keeper) done(start time.Time) {
	k.stats.Objections.Add(1)
	k.stats.RecordLatency.Add(int64(k.now().Sub(start)))
}

// Open writes the in_progress record of an offer whose dialogue begins,
// so that a crash leaves a trace (objections.Store.StartOffer), and
// returns the record as stored (with the offer it follows, when the call
// was offered before); false when the store did not take it. There is no
// spool for it: the final record, written by Close, is. Like Record it is
// detached from the call's context.
func (k *Keeper) Open(ctx context.Context, log *zap.Logger, o objections.Offer) (objections.Offer, bool) {
	ctx = context.WithoutCancel(ctx)
	if o.Instance == "" {
		o.Instance = k.instance
	}
	start := func(o objections.Offer) (objections.Offer, error) {
		wctx, cancel := context.WithTimeout(ctx, k.timeout)
		defer cancel()
		rec, _, err := k.rec.StartOffer(wctx, o)
		return rec, err
	}
	rec, err := start(o)
	if objections.ErrorCode(err) == objections.EINVALID && o.Number != "" {
		o.Number = "" // as Close does: the record matters more than the number
		rec, err = start(o)
	}
	if err != nil {
		k.stats.OfferStartFailures.Add(1)
		log.Warn("offer start not recorded; its final record will still be written", zap.Error(err))
		return o, false
	}
	return rec, true
}

// Close writes the offer evidence, falling back to the spool. Like Record it
// is detached from the call's context.
func (k *Keeper) Close(ctx context.Context, log *zap.Logger, o objections.Offer) {
	ctx = context.WithoutCancel(ctx)
	if o.Instance == "" {
		o.Instance = k.instance
	}
	p, err := k.rec.PrepareOffer(o)
	if objections.ErrorCode(err) == objections.EINVALID && o.Number != "" {
		log.Warn("customer number unusable; offer kept without it", zap.String("code", objections.ErrorCode(err)))
		o.Number = ""
		p, err = k.rec.PrepareOffer(o)
	}
	if err != nil {
		k.stats.OfferFailures.Add(1)
		log.Error("offer evidence invalid; not recorded", zap.Error(err))
		return
	}
	wctx, cancel := context.WithTimeout(ctx, k.timeout)
	_, _, err = k.rec.CommitOffer(wctx, p)
	cancel()
	if err == nil {
		log.Info("offer closed", zap.String("outcome", string(p.Outcome)), zap.Int64("played_ms", p.PlayedMS))
		return
	}
	k.stats.OfferFailures.Add(1)
	if k.spool != nil {
		if serr := k.spool.AppendOffer(p); serr == nil {
			log.Error("store did not take the offer; spooled for replay", zap.Error(err))
			return
		}
	}
	log.Error("offer evidence lost: store failed and no spool took it", zap.Error(err))
}

func trimNote(s string) string {
	if len(s) > 4000 {
		return s[:4000]
	}
	return s
}
