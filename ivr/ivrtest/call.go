// Package ivrtest holds hand-written fakes for testing code that drives an
// ivr dialogue: a fake call whose prompts take real (or, under
// testing/synctest, fake) time, and a recorder that can be made to fail.
package ivrtest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// ErrHungUp is returned by Play when the call ended during the prompt.
var ErrHungUp = errors.New("ivrtest: call hung up")

// Call is a fake live call. Prompts "play" for their DurationMS of wall
// time (use testing/synctest to make that instant); Press and HangUp act as
// the caller.
type Call struct {
	keys chan ivr.Key
	done chan struct{}
	once sync.Once

	mu        sync.Mutex
	played    []Played
	hungUp    bool
	continued bool
	// PlayErr, when set, makes Play fail at once with its result.
	PlayErr func(id prompts.ID) error
}

// Played is one prompt as the fake call played it.
type Played struct {
	ID      prompts.ID
	Version string
	MS      int64
	Stopped bool // stopped by barge-in
}

var _ ivr.Call = (*Call)(nil)

// NewCall returns a fake call.
func NewCall() *Call {
	// keys is buffered so a test can press ahead of the dialogue, like DTMF
	// arriving while the adapter is busy; 16 is more than any test presses.
	return &Call{keys: make(chan ivr.Key, 16), done: make(chan struct{})}
}

// Play waits the prompt's duration, or until ctx is cancelled or the call ends.
func (c *Call) Play(ctx context.Context, pb prompts.Playback) (int64, error) {
	if c.PlayErr != nil {
		if err := c.PlayErr(pb.ID); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	t := time.NewTimer(time.Duration(pb.DurationMS) * time.Millisecond)
	defer t.Stop()
	var err error
	stopped := false
	select {
	case <-t.C:
	case <-ctx.Done():
		stopped = true
	case <-c.done:
		err = ErrHungUp
	}
	ms := min(time.Since(start).Milliseconds(), pb.DurationMS)
	c.mu.Lock()
	c.played = append(c.played, Played{ID: pb.ID, Version: pb.Version, MS: ms, Stopped: stopped})
	c.mu.Unlock()
	return ms, err
}

// Keys implements ivr.Call.
func (c *Call) Keys() <-chan ivr.Key { return c.keys }

// Done implements ivr.Call.
func (c *Call) Done() <-chan struct{} { return c.done }

// Hangup implements ivr.Call: the system ends the call.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	c.hungUp = true
	c.mu.Unlock()
	c.once.Do(func() { close(c.done) })
	return nil
}

// Continue implements ivr.Call.
func (c *Call) Continue(ctx context.Context) error {
	c.mu.Lock()
	c.continued = true
	c.mu.Unlock()
	return nil
}

// Press sends keys as the caller, each with the current time.
func (c *Call) Press(digits string) {
	c.keys <- ivr.Key{Digit: digits, At: time.Now()}
}

// HangUp ends the call as the caller.
func (c *Call) HangUp() { c.once.Do(func() { close(c.done) }) }

// Played returns the prompts played so far.
func (c *Call) Played() []Played {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Played(nil), c.played...)
}

// PlayedIDs returns the ids of the prompts played so far.
func (c *Call) PlayedIDs() []prompts.ID {
	var ids []prompts.ID
	for _, p := range c.Played() {
		ids = append(ids, p.ID)
	}
	return ids
}

// HungUpBySystem reports whether the dialogue hung up.
func (c *Call) HungUpBySystem() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hungUp
}

// Continued reports whether the dialogue handed the call back to the dialplan.
func (c *Call) Continued() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.continued
}

// Recorder wraps a real ivr.Recorder; Fail, when set, makes commits fail
// (a store outage) while it returns an error.
type Recorder struct {
	ivr.Recorder
	mu   sync.Mutex
	Fail func() error
	// Commits counts objection commits attempted.
	Commits int
}

// Commit implements ivr.Recorder.
func (r *Recorder) Commit(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	r.mu.Lock()
	r.Commits++
	r.mu.Unlock()
	if err := r.failure(); err != nil {
		return objections.Objection{}, false, err
	}
	return r.Recorder.Commit(ctx, o)
}

// CommitOffer implements ivr.Recorder.
func (r *Recorder) CommitOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := r.failure(); err != nil {
		return objections.Offer{}, false, err
	}
	return r.Recorder.CommitOffer(ctx, o)
}

// StartOffer implements ivr.Recorder.
func (r *Recorder) StartOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := r.failure(); err != nil {
		return objections.Offer{}, false, err
	}
	return r.Recorder.StartOffer(ctx, o)
}

// failure is the error Fail returns now; nil without Fail.
func (r *Recorder) failure() error {
	r.mu.Lock()
	fail := r.Fail
	r.mu.Unlock()
	if fail == nil {
		return nil
	}
	return fail()
}

// SetFail changes the failure function safely while dialogues run.
func (r *Recorder) SetFail(f func() error) {
	r.mu.Lock()
	r.Fail = f
	r.mu.Unlock()
}
