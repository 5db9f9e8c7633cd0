package httpapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/verzet/verzet/objections"
)

// FactsMany is met by stores that answer many Facts questions with one
// statement (objections/postgres). The dial-time check uses it, through a
// coalescer, when the store has it; facts[i] answers qs[i] exactly as
// objections.Store.Facts would.
type FactsMany interface {
	FactsMany(ctx context.Context, qs []objections.FactsQuery) ([]objections.Facts, error)
}

// coalescer gathers concurrent dial-time questions into batches, the group
// commit of reads: at most flights batches are being read at once, and a
// question that arrives while all of them are busy waits for the next one,
// which takes every question waiting by then (up to maxBatch). A question
// that finds a flight free is read at once, alone: a quiet server answers
// with no added wait, a busy one answers many questions per statement
// instead of one.
//
// Nothing is cached. A batch's statement starts after every question in it
// was asked, so it sees every write committed before any of them: an
// objection committed anywhere blocks the next check, as without batching.
type coalescer struct {
	read     func(ctx context.Context, qs []objections.FactsQuery) ([]objections.Facts, error)
	flights  int
	maxBatch int
	timeout  time.Duration
	observe  func(n int) // batch sizes, for the metrics

	mu      sync.Mutex
	busy    int // flights being read
	pending []*question
}

// question is one caller's question and, once read, its answer. done is
// closed when the answer is in, or when the caller is to lead the next
// flight (lead is then true).
type question struct {
	q     objections.FactsQuery
	facts objections.Facts
	err   error
	lead  bool
	done  chan struct{}
}

func newCoalescer(read func(context.Context, []objections.FactsQuery) ([]objections.Facts, error), flights, maxBatch int, timeout time.Duration, observe func(int)) *coalescer {
	if flights < 1 {
		flights = 1
	}
	if maxBatch < 1 {
		maxBatch = 1
	}
	return &coalescer{read: read, flights: flights, maxBatch: maxBatch, timeout: timeout, observe: observe}
}

// maxWaiting bounds the questions waiting for a flight, in batches: when
// the store is slow or down, more checks wait than it can answer, and a
// check beyond the bound fails at once (EUNAVAILABLE, 503) rather than
// queue behind minutes of reads.
const maxWaiting = 16

// facts answers one question, alone or with others. A read does not stop
// when ctx is cancelled (other callers' answers ride on it); it is bounded
// by the coalescer's timeout instead. A caller still waiting for a flight
// when ctx ends leaves the queue.
func (c *coalescer) facts(ctx context.Context, q objections.FactsQuery) (objections.Facts, error) {
	me := &question{q: q}
	c.mu.Lock()
	if c.busy < c.flights {
		c.busy++
		c.mu.Unlock()
		c.fly(ctx, me)
		return me.facts, me.err
	}
	if len(c.pending) >= c.flights*c.maxBatch*maxWaiting {
		c.mu.Unlock()
		return objections.Facts{}, objections.Unavailable("read facts", errors.New("too many checks waiting for the store"))
	}
	me.done = make(chan struct{})
	c.pending = append(c.pending, me)
	c.mu.Unlock()
	select {
	case <-me.done:
	case <-ctx.Done():
		c.mu.Lock()
		if i := slices.Index(c.pending, me); i >= 0 {
			c.pending = slices.Delete(c.pending, i, i+1)
			c.mu.Unlock()
			return objections.Facts{}, objections.Unavailable("read facts", ctx.Err())
		}
		c.mu.Unlock()
		<-me.done // in a batch being read, or just made to lead one
	}
	if me.lead {
		c.fly(ctx, me)
	}
	return me.facts, me.err
}

// fly reads one batch: lead's question and every one waiting (up to
// maxBatch), answers them, then hands the flight to the oldest question
// still waiting, or frees it. The caller holds the flight.
func (c *coalescer) fly(ctx context.Context, lead *question) {
	c.mu.Lock()
	n := min(len(c.pending), c.maxBatch-1)
	batch := make([]*question, 0, n+1)
	batch = append(batch, lead)
	batch = append(batch, c.pending[:n]...)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil // let the backing array go
	}
	c.mu.Unlock()

	qs := make([]objections.FactsQuery, len(batch))
	for i, b := range batch {
		qs[i] = b.q
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	fs, err := c.read(rctx, qs)
	cancel()
	if err == nil && len(fs) != len(qs) {
		err = objections.Internal("read facts", fmt.Errorf("%d answers for %d questions", len(fs), len(qs)))
	}
	if c.observe != nil {
		c.observe(len(batch))
	}
	for i, b := range batch {
		if err != nil {
			b.err = err
		} else {
			b.facts = fs[i]
		}
		if i > 0 {
			close(b.done)
		}
	}

	c.mu.Lock()
	if err != nil {
		// The store just failed a read: the questions waiting meanwhile
		// get the same answer now instead of each waiting for a read of
		// its own to fail (up to the timeout, one batch after another).
		for _, w := range c.pending {
			w.err = err
			close(w.done)
		}
		c.pending = nil
	}
	if len(c.pending) == 0 {
		c.busy--
		c.mu.Unlock()
		return
	}
	next := c.pending[0]
	c.pending = c.pending[1:]
	c.mu.Unlock()
	next.lead = true
	close(next.done)
}
