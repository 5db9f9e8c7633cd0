package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/verzet/verzet/objections"
)

// Target is where Replay delivers entries: the store itself (objections.Store
// satisfies it), not the Register, so that the ID and ReceivedAt stamped at
// the key press are kept. Both methods must treat a repeat (the same
// idempotency key, or provider and call ref) as success with created=false:
// replay delivers an entry again after a crash between the store's commit
// and the done marker.
type Target interface {
	RecordObjection(ctx context.Context, o objections.Objection) (objections.Objection, bool, error)
	RecordOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error)
}

var _ Target = objections.Store(nil)

// checkpointEvery is how many entries Replay delivers between two writes of
// the done marker. A crash in between delivers at most that many again,
// which the store ignores as repeats; marking after every entry would cost
// two more fsyncs per entry during recovery.
const checkpointEvery = 64

// Replay delivers the pending entries to t in the order they were appended,
// and returns how many it delivered (stored, or recognised by t as a repeat).
// It stops at the first entry t fails on and returns that error, wrapped with
// the entry's kind and Seq (ErrorCode still sees t's code); that entry and
// the ones after it stay pending, in order, for the next Replay. Entries
// appended while Replay runs wait for the next one.
//
// What was delivered is marked done durably before Replay returns; when
// everything is done the log is emptied. One Replay runs at a time; a second
// waits for the first. A damaged record is a *CorruptError.
func (s *Spool) Replay(ctx context.Context, t Target) (int, error) {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()

	s.mu.Lock()
	if err := s.usable("replay spool"); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	start, end, seq := s.doneOff, s.size, s.doneSeq
	s.mu.Unlock()

	// The records in [start, end) are whole and are not changed while
	// replayMu is held (only Replay and Open compact), so they are read
	// without s.mu and appends go on meanwhile.
	n, err := s.deliver(ctx, t, start, end, seq)
	if merr := s.checkpoint(true); merr != nil {
		err = errors.Join(err, merr)
	}
	return n, err
}

func (s *Spool) deliver(ctx context.Context, t Target, start, end int64, seq uint64) (int, error) {
	sc := newScanner(io.NewSectionReader(s.f, start, end-start), start)
	n := 0
	for {
		e, off, err := sc.next()
		if err == io.EOF {
			return n, nil
		}
		var rerr *recordError
		if errors.As(err, &rerr) {
			return n, s.corrupt(off, err)
		}
		if err != nil {
			return n, objections.Unavailable("read spool log", err)
		}
		if e.Seq != seq+1 {
			return n, s.corrupt(off, fmt.Errorf("entry has seq %d, expected %d", e.Seq, seq+1))
		}
		if err := deliverEntry(ctx, t, e); err != nil {
			return n, fmt.Errorf("replay %s seq %d: %w", e.Kind, e.Seq, err)
		}
		n++
		seq = e.Seq
		s.mu.Lock()
		s.doneSeq, s.doneOff = e.Seq, sc.off
		s.mu.Unlock()
		if n%checkpointEvery == 0 {
			if err := s.checkpoint(false); err != nil {
				return n, err
			}
		}
	}
}

func deliverEntry(ctx context.Context, t Target, e Entry) error {
	var err error
	switch e.Kind {
	case KindObjection:
		_, _, err = t.RecordObjection(ctx, *e.Objection)
	case KindOffer:
		_, _, err = t.RecordOffer(ctx, *e.Offer)
	default:
		err = fmt.Errorf("unknown entry kind %q", e.Kind)
	}
	return err
}

// checkpoint writes the done marker when entries were delivered since the
// last one, and with compact empties the log once every entry is done. The
// marker is on disk before the log is emptied, and Seq never restarts, so a
// crash at any point leaves a log and a marker that agree.
func (s *Spool) checkpoint(compact bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return objections.Unavailable("mark spool entries done", ErrClosed)
	}
	if s.doneSeq > s.markSeq {
		if err := writeMarker(s.dir, s.doneSeq); err != nil {
			return err
		}
		s.markSeq = s.doneSeq
	}
	if compact && s.size > 0 && s.markSeq == s.lastSeq && s.broken == nil {
		return s.compactLocked()
	}
	return nil
}

// compactLocked empties the log, all of whose entries are marked done.
// s.mu is held (or the spool is not shared yet).
func (s *Spool) compactLocked() error {
	if err := s.f.Truncate(0); err != nil {
		// ftruncate failed as a whole: the log is as it was.
		return objections.Unavailable("compact spool log", err)
	}
	s.size, s.doneOff = 0, 0
	if err := s.f.Sync(); err != nil {
		s.broken = fmt.Errorf("fsync after compaction: %w", err)
		return objections.Unavailable("sync spool log", err)
	}
	return nil
}

// Backoff of Run after a failed Replay: 1s, 2s, 4s, … up to 30s.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// Run replays into t until ctx is done: at once, then every interval
// `every` (5s when not positive) and right after each Append; after a
// failure it waits 1s, doubling up to 30s, and reports the error to onErr
// (which may be nil) for the caller to log. It returns when ctx is done or
// the spool is closed. Run blocks: the caller starts it in a goroutine it
// owns and waits for, and runs one Run per Spool.
func (s *Spool) Run(ctx context.Context, t Target, every time.Duration, onErr func(error)) {
	if every <= 0 {
		every = 5 * time.Second
	}
	var backoff time.Duration
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			if backoff > 0 {
				continue // the store is down: wait out the backoff
			}
		case <-timer.C:
		}
		_, err := s.Replay(ctx, t)
		switch {
		case ctx.Err() != nil, errors.Is(err, ErrClosed):
			return
		case err != nil:
			if onErr != nil {
				onErr(err)
			}
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			timer.Reset(backoff)
		default:
			backoff = 0
			timer.Reset(every)
		}
	}
}
