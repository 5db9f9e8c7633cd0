package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// The decision log's settings. The buffer bounds memory (a blocked record
// is a few hundred bytes: 65,536 of them are some 20 MiB) and covers a
// store outage of seconds to minutes at dial rates; beyond it, checks go
// on and their records are dropped and counted.
const (
	decisionLogCapacity     = 65536                  // blocked records buffered at most
	decisionLogBatch        = 1000                   // pending records that flush before the tick
	decisionLogInterval     = 200 * time.Millisecond // flush period
	decisionLogMaxWrite     = 10000                  // records per AppendDecisions
	decisionLogFinalTimeout = 5 * time.Second        // the flush at shutdown
	decisionPurgeBatch      = 10000                  // records one purge statement deletes at most
	decisionPurgeInterval   = time.Hour              // how often the retention purge runs
)

// DecisionLog is the log of dial-time checks the API keeps (both of
// verzet's stores, migration 007): it writes the checks asynchronously
// and in batches (a check never waits for it), purges them after the
// retention, and reads them back for /v1/decisions and evidence packs.
type DecisionLog interface {
	// AppendDecisions writes, in one transaction, the records of blocked
	// checks (a record whose ID is stored already is skipped), adds counts
	// to the stored daily counts, and notes each objection's first blocked
	// check; it returns the first blocks noted by this call (an objection
	// blocked before keeps its first). EINVALID for a record without ID.
	AppendDecisions(ctx context.Context, blocked []objections.DecisionRecord, counts []objections.DecisionCount) (firsts []objections.FirstBlock, err error)
	// Decisions returns up to objections.DecisionsLimit(limit) records of
	// org on number, newest first.
	Decisions(ctx context.Context, org, number string, limit int) ([]objections.DecisionRecord, error)
	// ListDecisions returns one page of logged checks matching f, oldest
	// first (by id, the ULID of the check's time).
	ListDecisions(ctx context.Context, f objections.DecisionFilter) ([]objections.DecisionRecord, error)
	// DecisionCounts returns org's daily counts for the days from..to
	// (dates, inclusive), by day, callable and reason.
	DecisionCounts(ctx context.Context, org string, from, to time.Time) ([]objections.DecisionCount, error)
	// FirstBlocks returns the first blocked check time of those of
	// objectionIDs that have one.
	FirstBlocks(ctx context.Context, objectionIDs []string) (map[string]time.Time, error)
	// PurgeDecisions deletes up to limit of the oldest logged checks
	// decided before before (docs/compliance.md §3.4 retention) and returns how
	// many it deleted. Daily counts and first blocks are kept: they hold
	// no number.
	PurgeDecisions(ctx context.Context, before time.Time, limit int) (int64, error)
}

// decisionLog keeps the honour evidence of docs/compliance.md §3.3 for dial-time
// checks (GET /v1/callability) without making a check wait on a write:
// add puts the answer in memory and returns; Server.Run flushes every
// decisionLogInterval, or as soon as decisionLogBatch blocked records are
// pending, and once more when it stops. Every check is counted per org,
// Europe/Amsterdam day, result and main reason; a blocked check is also
// kept whole, with the list version its facts were read at and the token
// that asked. A scrub is list preparation, not a dial attempt: it is not
// logged.
//
// When the buffer is full, blocked records are dropped (counted in
// verzet_decision_log_dropped_total) but still counted per day; a failed
// flush keeps its records and counts for the next tick
// (verzet_decision_log_failures_total). Each objection's first blocked
// check observes verzet_revocation_first_block_seconds: the time from the
// objection's receipt (its commit) to the first dial attempt it blocked.
type decisionLog struct {
	store    DecisionLog
	log      *zap.Logger
	capacity int
	batch    int
	maxWrite int
	interval time.Duration

	dropped    prometheus.Counter
	failures   prometheus.Counter
	firstBlock prometheus.Histogram
	purged     prometheus.Counter

	// retention is how long a blocked record is kept (Config.
	// DecisionRetention; 0: for ever); now is the server's clock.
	retention  time.Duration
	now        func() time.Time
	purgeBatch int

	// wake asks for a flush before the tick (size 1: a pending wake-up is
	// enough).
	wake chan struct{}

	mu      sync.Mutex
	pending []pendingDecision
	counts  map[countKey]int64
	// failing counts flushes failed in a row, to log the first of a run
	// and then now and then.
	failing int
}

// pendingDecision is a blocked record waiting for a flush.
type pendingDecision struct {
	rec objections.DecisionRecord
	// receivedAt is when the blocking objection was received: the start of
	// the first-block latency (zero without an objection).
	receivedAt time.Time
}

type countKey struct {
	org      string
	day      time.Time
	callable bool
	reason   objections.Reason
}

func newDecisionLog(store DecisionLog, log *zap.Logger, reg prometheus.Registerer) *decisionLog {
	l := &decisionLog{store: store, log: log, capacity: decisionLogCapacity, batch: decisionLogBatch,
		maxWrite: decisionLogMaxWrite, interval: decisionLogInterval, wake: make(chan struct{}, 1),
		counts: map[countKey]int64{}}
	l.dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "verzet_decision_log_dropped_total",
		Help: "Blocked dial-time checks not logged because the decision log's buffer was full (they are still counted per day).",
	})
	l.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "verzet_decision_log_failures_total",
		Help: "Failed writes of the decision log; the records are kept and written on the next try.",
	})
	l.firstBlock = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "verzet_revocation_first_block_seconds",
		Help:    "Time from an objection's receipt (commit) to the first dial-time check it blocked (docs/compliance.md §3.3 revocation latency).",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400, 30 * 86400},
	})
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "verzet_decision_log_pending", Help: "Blocked dial-time checks buffered for the decision log.",
	}, func() float64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return float64(len(l.pending))
	})
	l.purged = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "verzet_decision_log_purged_total",
		Help: "Logged blocked checks deleted by the retention purge (VERZET_DECISION_RETENTION).",
	})
	l.now, l.purgeBatch = time.Now, decisionPurgeBatch
	reg.MustRegister(l.dropped, l.failures, l.firstBlock, l.purged, pending)
	return l
}

// add logs the dial-time decision d, asked with tok. It takes a lock and
// appends to memory, nothing more: the answer never waits on the store.
// Safe on a nil log (a store without a decision log).
func (l *decisionLog) add(d objections.Decision, tok access.Token) {
	if l == nil {
		return
	}
	var reason objections.Reason
	if len(d.Reasons) > 0 {
		reason = d.Reasons[0]
	}
	k := countKey{org: d.Org, day: objections.DecisionDay(d.At), callable: d.Callable, reason: reason}
	wake := false
	l.mu.Lock()
	l.counts[k]++
	if !d.Callable {
		if len(l.pending) >= l.capacity {
			l.mu.Unlock()
			l.dropped.Inc()
			return
		}
		p := pendingDecision{rec: objections.NewDecisionRecord(d, tok.Name)}
		if d.Objection != nil {
			p.receivedAt = d.Objection.ReceivedAt
		}
		l.pending = append(l.pending, p)
		wake = len(l.pending) >= l.batch
	}
	l.mu.Unlock()
	if wake {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// run flushes until ctx ends, then flushes once more with a deadline of
// its own, so that the checks of the last moments are kept too.
func (l *decisionLog) run(ctx context.Context) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), decisionLogFinalTimeout)
			defer cancel()
			l.flush(fctx)
			return
		case <-t.C:
		case <-l.wake:
		}
		l.flush(ctx)
	}
}

// flush writes the pending records and counts, decisionLogMaxWrite
// records at a time, until none are left or a write fails; a failed write
// puts its records and counts back, ahead of newer ones. A batch the store
// refuses as invalid is dropped instead: it would fail every time.
func (l *decisionLog) flush(ctx context.Context) {
	for ctx.Err() == nil {
		l.mu.Lock()
		n := min(len(l.pending), l.maxWrite)
		batch := make([]pendingDecision, n)
		copy(batch, l.pending)
		l.pending = append(l.pending[:0], l.pending[n:]...)
		var counts map[countKey]int64
		if len(l.counts) > 0 {
			counts, l.counts = l.counts, map[countKey]int64{}
		}
		more := len(l.pending) > 0
		l.mu.Unlock()
		if n == 0 && len(counts) == 0 {
			return
		}

		recs := make([]objections.DecisionRecord, n)
		received := make(map[string]time.Time)
		for i := range batch {
			// The ID is given once and kept across retries, so that a
			// write whose commit was uncertain is not logged twice.
			if batch[i].rec.ID == "" {
				batch[i].rec.ID = objections.NewID(batch[i].rec.DecidedAt)
			}
			recs[i] = batch[i].rec
			if id := batch[i].rec.ObjectionID; id != "" && !batch[i].receivedAt.IsZero() {
				received[id] = batch[i].receivedAt
			}
		}
		cs := make([]objections.DecisionCount, 0, len(counts))
		for k, c := range counts {
			cs = append(cs, objections.DecisionCount{Org: k.org, Day: k.day, Callable: k.callable, Reason: k.reason, Count: c})
		}
		firsts, err := l.store.AppendDecisions(ctx, recs, cs)
		if objections.ErrorCode(err) == objections.EINVALID {
			// The store refuses the batch itself: retrying would refuse it
			// for ever and fill the buffer. Drop it, loudly.
			l.dropped.Add(float64(n))
			l.failures.Inc()
			l.log.Error("write decision log: records refused; dropped", zap.Error(err), zap.Int("records", n))
			continue
		}
		if err != nil {
			l.putBack(batch, counts)
			if ctx.Err() != nil {
				return // stopping: the final flush tries again
			}
			l.failures.Inc()
			l.mu.Lock()
			l.failing++
			failing := l.failing
			l.mu.Unlock()
			// A store that is down fails every tick: warn on the first
			// failure and then every fiftieth (some ten seconds).
			if failing%50 == 1 {
				l.log.Warn("write decision log; will retry", zap.Error(err), zap.Int("records", n), zap.Int("attempt", failing))
			}
			return
		}
		l.mu.Lock()
		l.failing = 0
		l.mu.Unlock()
		for _, f := range firsts {
			if at, ok := received[f.ObjectionID]; ok {
				l.firstBlock.Observe(max(0, f.At.Sub(at).Seconds()))
			}
		}
		if !more {
			return
		}
	}
}

// putBack returns a failed write's records (ahead of those added since,
// dropping the newest beyond the capacity) and counts.
func (l *decisionLog) putBack(batch []pendingDecision, counts map[countKey]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := append(batch, l.pending...)
	if over := len(all) - l.capacity; over > 0 {
		all = all[:l.capacity]
		l.dropped.Add(float64(over))
	}
	l.pending = all
	for k, c := range counts {
		l.counts[k] += c
	}
}

// purgeLoop deletes blocked records older than the retention (docs/compliance.md
// §3.4: the evidence is kept for a period, the suppression itself for
// ever) at start and then every decisionPurgeInterval, until ctx ends.
// Every instance runs it; deleting is idempotent.
func (l *decisionLog) purgeLoop(ctx context.Context) {
	if l.retention <= 0 {
		return
	}
	t := time.NewTicker(decisionPurgeInterval)
	defer t.Stop()
	for {
		l.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purge deletes the records decided before now − retention,
// purgeBatch at a time, so that no statement holds locks long.
func (l *decisionLog) purge(ctx context.Context) {
	before := l.now().Add(-l.retention)
	var total int64
	for ctx.Err() == nil {
		n, err := l.store.PurgeDecisions(ctx, before, l.purgeBatch)
		total += n
		l.purged.Add(float64(n))
		if err != nil {
			if ctx.Err() == nil {
				l.log.Warn("purge decision log; will retry", zap.Error(err), zap.Time("before", before))
			}
			break
		}
		if n < int64(l.purgeBatch) {
			break
		}
	}
	if total > 0 {
		l.log.Info("purged decision log", zap.Int64("records", total), zap.Time("before", before))
	}
}
