package ari

import "sync"

// queue is an unbounded, ordered queue with one reader: between ari/v5's
// websocket reader and the router (events), and between the router and a
// call's Play (playback events). A writer never waits and nothing is
// dropped: the router must not block on a slow call, and a call must not
// lose the PlaybackFinished behind a burst of segment events.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	spare  []T
	closed bool
	ready  chan struct{} // size 1: something was queued, or the queue closed
}

func newQueue[T any]() *queue[T] { return &queue[T]{ready: make(chan struct{}, 1)} }

// push queues v and returns the queue's depth; after close it drops v.
func (q *queue[T]) push(v T) int64 {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0
	}
	q.items = append(q.items, v)
	d := int64(len(q.items))
	q.mu.Unlock()
	notify(q.ready)
	return d
}

func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	notify(q.ready)
}

// drain returns everything queued, in order, without waiting. The batch is
// valid until the next drain or take.
func (q *queue[T]) drain() (batch []T, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch = q.items
	q.items, q.spare = q.spare[:0], batch
	return batch, q.closed
}

// take waits for items and returns all queued, in order; false once the
// queue is closed and empty. The batch is valid until the next take.
func (q *queue[T]) take() ([]T, bool) {
	for {
		batch, closed := q.drain()
		if len(batch) > 0 {
			return batch, true
		}
		if closed {
			return nil, false
		}
		<-q.ready
	}
}
