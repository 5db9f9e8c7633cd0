package httpapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// fakeReads answers each question with facts naming it (Org.Name is
// "org/number/person"), records every batch, and holds a batch while
// hold is not nil and unclosed.
type fakeReads struct {
	mu      sync.Mutex
	batches [][]objections.FactsQuery
	started chan struct{} // gets a value when a read starts
	hold    chan struct{}
	err     error
	short   bool
}

func (f *fakeReads) read(ctx context.Context, qs []objections.FactsQuery) ([]objections.Facts, error) {
	f.mu.Lock()
	f.batches = append(f.batches, append([]objections.FactsQuery(nil), qs...))
	hold := f.hold
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	out := make([]objections.Facts, len(qs))
	if f.short {
		out = out[:len(qs)-1]
	}
	for i := range out {
		out[i].Org.Name = qs[i].Org + "/" + qs[i].Number + "/" + qs[i].Person
	}
	return out, nil
}

func ask(ctx context.Context, c *coalescer, i int) (objections.Facts, objections.FactsQuery, error) {
	q := objections.FactsQuery{Org: fmt.Sprintf("org%d", i%3), Number: fmt.Sprintf("+3161234%04d", i), Person: fmt.Sprintf("p%d", i%2)}
	f, err := c.facts(ctx, q)
	return f, q, err
}

// Questions that arrive while the only flight is busy wait and are read
// together, each getting its own answer; the batches respect maxBatch and
// every question is read exactly once.
func TestCoalescerBatchesWaitingQuestions(t *testing.T) {
	f := &fakeReads{started: make(chan struct{}, 100), hold: make(chan struct{})}
	var sizes []int
	var smu sync.Mutex
	c := newCoalescer(f.read, 1, 4, time.Minute, func(n int) { smu.Lock(); sizes = append(sizes, n); smu.Unlock() })

	const n = 11
	type answer struct {
		f   objections.Facts
		err error
		q   objections.FactsQuery
	}
	answers := make(chan answer, n)
	go func() { f, q, err := ask(context.Background(), c, 0); answers <- answer{f, err, q} }()
	<-f.started // the first question is being read, alone
	for i := 1; i < n; i++ {
		go func() { f, q, err := ask(context.Background(), c, i); answers <- answer{f, err, q} }()
	}
	// Wait until the other ten wait.
	for deadline := time.Now().Add(10 * time.Second); ; {
		c.mu.Lock()
		waiting := len(c.pending)
		c.mu.Unlock()
		if waiting == n-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d questions waiting, want %d", waiting, n-1)
		}
		time.Sleep(time.Millisecond)
	}
	f.mu.Lock()
	first := f.hold
	f.hold = nil // later batches are not held
	f.mu.Unlock()
	close(first)

	for range n {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		if want := a.q.Org + "/" + a.q.Number + "/" + a.q.Person; a.f.Org.Name != want {
			t.Fatalf("answer for %+v is %q", a.q, a.f.Org.Name)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]int{}
	for _, b := range f.batches {
		if len(b) > 4 {
			t.Fatalf("batch of %d, max 4", len(b))
		}
		for _, q := range b {
			seen[q.Number]++
		}
	}
	if len(seen) != n {
		t.Fatalf("%d questions read, want %d", len(seen), n)
	}
	for num, k := range seen {
		if k != 1 {
			t.Fatalf("%s read %d times", num, k)
		}
	}
	// 1 alone, then the ten waiting in batches of at most 4: 4, 4, 2.
	if len(f.batches) != 4 || len(f.batches[0]) != 1 || len(f.batches[1]) != 4 {
		smu.Lock()
		defer smu.Unlock()
		t.Fatalf("batch sizes %v", sizes)
	}
	if c.busy != 0 || len(c.pending) != 0 {
		t.Fatalf("after the last answer: %d flights busy, %d waiting", c.busy, len(c.pending))
	}
}

// A quiet coalescer reads a question at once, alone.
func TestCoalescerQuietReadsAlone(t *testing.T) {
	f := &fakeReads{}
	c := newCoalescer(f.read, 4, 64, time.Minute, nil)
	for i := range 3 {
		if _, _, err := ask(context.Background(), c, i); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.batches) != 3 {
		t.Fatalf("%d batches for 3 questions asked one after another", len(f.batches))
	}
}

// A failed read fails every question of its batch with the store's error,
// and a read with too few answers is an internal error, not a panic.
func TestCoalescerErrors(t *testing.T) {
	boom := objections.Unavailable("read facts", errors.New("connection refused"))
	f := &fakeReads{err: boom}
	c := newCoalescer(f.read, 1, 8, time.Minute, nil)
	if _, _, err := ask(context.Background(), c, 1); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the store's", err)
	}
	f.err, f.short = nil, true
	if _, _, err := ask(context.Background(), c, 1); objections.ErrorCode(err) != objections.EINTERNAL {
		t.Fatalf("short read: err = %v, want EINTERNAL", err)
	}
}

// A caller that gives up does not cancel the read that others ride on.
func TestCoalescerCallerCancelDoesNotCancelRead(t *testing.T) {
	f := &fakeReads{}
	c := newCoalescer(f.read, 1, 8, time.Minute, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if fs, q, err := ask(ctx, c, 7); err != nil || fs.Org.Name != q.Org+"/"+q.Number+"/"+q.Person {
		t.Fatalf("cancelled caller: %v, %v", fs.Org.Name, err)
	}
}

// waitPending waits until n questions wait for a flight.
func waitPending(t *testing.T, c *coalescer, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c.mu.Lock()
		waiting := len(c.pending)
		c.mu.Unlock()
		if waiting == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d questions waiting, want %d", waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// When the store fails a read, the questions that waited meanwhile get the
// same error at once, without a read of their own.
func TestCoalescerFailureFailsTheWaiting(t *testing.T) {
	hold := make(chan struct{})
	f := &fakeReads{started: make(chan struct{}, 10), hold: hold}
	c := newCoalescer(f.read, 1, 64, time.Minute, nil)
	errs := make(chan error, 6)
	go func() { _, _, err := ask(context.Background(), c, 0); errs <- err }()
	<-f.started
	for i := 1; i < 6; i++ {
		go func() { _, _, err := ask(context.Background(), c, i); errs <- err }()
	}
	waitPending(t, c, 5)
	boom := objections.Unavailable("read facts", errors.New("connection refused"))
	f.mu.Lock()
	f.err = boom
	f.mu.Unlock()
	close(hold)
	for range 6 {
		if err := <-errs; !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the store's", err)
		}
	}
	if len(f.batches) != 1 {
		t.Fatalf("%d reads, want 1", len(f.batches))
	}
	if c.busy != 0 || len(c.pending) != 0 {
		t.Fatalf("after the failure: %d flights busy, %d waiting", c.busy, len(c.pending))
	}
}

// A caller whose request ends while it waits leaves the queue: it is not
// read, and the others still are.
func TestCoalescerWaiterGivesUp(t *testing.T) {
	hold := make(chan struct{})
	f := &fakeReads{started: make(chan struct{}, 10), hold: hold}
	c := newCoalescer(f.read, 1, 64, time.Minute, nil)
	first := make(chan error, 1)
	go func() { _, _, err := ask(context.Background(), c, 0); first <- err }()
	<-f.started
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { _, _, err := ask(ctx, c, 1); gaveUp <- err }()
	stays := make(chan error, 1)
	waitPending(t, c, 1)
	go func() { _, _, err := ask(context.Background(), c, 2); stays <- err }()
	waitPending(t, c, 2)
	cancel()
	if err := <-gaveUp; objections.ErrorCode(err) != objections.EUNAVAILABLE {
		t.Fatalf("gave up: err = %v", err)
	}
	waitPending(t, c, 1)
	f.mu.Lock()
	f.hold = nil
	f.mu.Unlock()
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-stays; err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.batches {
		for _, q := range b {
			if q.Number == "+31612340001" {
				t.Fatal("the question given up was read")
			}
		}
	}
	if len(f.batches) != 2 {
		t.Fatalf("%d reads, want 2", len(f.batches))
	}
}

// Beyond flights × maxBatch × maxWaiting waiting questions, a check fails
// at once instead of queueing behind the store.
func TestCoalescerBoundsTheQueue(t *testing.T) {
	hold := make(chan struct{})
	f := &fakeReads{started: make(chan struct{}, 100), hold: hold}
	c := newCoalescer(f.read, 1, 1, time.Minute, nil)
	done := make(chan error, maxWaiting+1)
	go func() { _, _, err := ask(context.Background(), c, 0); done <- err }()
	<-f.started
	for i := 1; i <= maxWaiting; i++ {
		go func() { _, _, err := ask(context.Background(), c, i); done <- err }()
	}
	waitPending(t, c, maxWaiting)
	if _, _, err := ask(context.Background(), c, 99); objections.ErrorCode(err) != objections.EUNAVAILABLE {
		t.Fatalf("past the bound: err = %v, want EUNAVAILABLE at once", err)
	}
	f.mu.Lock()
	f.hold = nil
	f.mu.Unlock()
	close(hold)
	for range maxWaiting + 1 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
