package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections"
)

func TestReplayStoreDown(t *testing.T) {
	// Five entries; the store fails on the call numbered failAt.
	tests := []struct {
		name        string
		failAt      int
		wantN       int
		wantPending int
	}{
		{"down from the start", 1, 0, 5},
		{"down after two", 3, 2, 3},
		{"down at the last", 5, 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := mustOpen(t, "")
			mustAppendObjections(t, s, 0, 5)
			tgt := &fakeTarget{fail: failAt(tt.failAt)}

			n, err := s.Replay(ctx, tgt)
			if !errors.Is(err, errStoreDown) || objections.ErrorCode(err) != objections.EUNAVAILABLE {
				t.Fatalf("Replay error = %v, want the store's EUNAVAILABLE", err)
			}
			if want := "seq " + string(rune('0'+tt.failAt)); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			if n != tt.wantN || s.Pending() != tt.wantPending {
				t.Errorf("Replay = %d, Pending %d; want %d, %d", n, s.Pending(), tt.wantN, tt.wantPending)
			}
			// What stays pending survives a restart, in order.
			s = reopen(t, s)
			if s.Pending() != tt.wantPending {
				t.Errorf("Pending after reopen = %d, want %d", s.Pending(), tt.wantPending)
			}
			n, err = s.Replay(ctx, tgt) // the store is back
			if err != nil || n != tt.wantPending {
				t.Fatalf("Replay when back = %d, %v; want %d, nil", n, err, tt.wantPending)
			}
			if got, want := keysOf(tgt.objections), wantKeys(0, 5); !reflect.DeepEqual(got, want) {
				t.Errorf("store got %q, want %q", got, want)
			}
			if tgt.repeats != 0 {
				t.Errorf("%d repeats; an entry the store refused must not count as delivered", tgt.repeats)
			}
			if s.Pending() != 0 {
				t.Errorf("Pending = %d, want 0", s.Pending())
			}
		})
	}
}

func TestReplayCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := mustOpen(t, "")
	mustAppendObjections(t, s, 0, 3)
	tgt := &ctxTarget{cancelAt: 2, cancel: cancel}
	n, err := s.Replay(ctx, tgt)
	if !errors.Is(err, context.Canceled) || n != 1 || s.Pending() != 2 {
		t.Errorf("Replay = %d, %v, Pending %d; want 1, context.Canceled, 2", n, err, s.Pending())
	}
}

// ctxTarget cancels the replay's context at its cancelAt-th call and then
// fails as a store does on a cancelled context.
type ctxTarget struct {
	calls, cancelAt int
	cancel          func()
}

func (c *ctxTarget) RecordObjection(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	if c.calls++; c.calls == c.cancelAt {
		c.cancel()
	}
	if err := ctx.Err(); err != nil {
		return objections.Objection{}, false, objections.Unavailable("record objection", err)
	}
	return o, true, nil
}

func (c *ctxTarget) RecordOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	return o, true, ctx.Err()
}

func TestReplayCrashBeforeMark(t *testing.T) {
	// The store commits an entry and then the spool does not get to mark
	// it done. The next replay delivers it again, and a store that
	// recognises repeats ends with every key press exactly once.
	tests := []struct {
		name string
		run  func(t *testing.T, s *Spool, tgt *fakeTarget) *Spool
	}{
		{"response lost after commit", func(t *testing.T, s *Spool, tgt *fakeTarget) *Spool {
			lost := failAt(2)
			tgt.after = lost
			if _, err := s.Replay(context.Background(), tgt); err == nil {
				t.Fatal("Replay with a lost response succeeded")
			}
			tgt.after = nil
			return reopen(t, s)
		}},
		{"crash after replay, marker not on disk", func(t *testing.T, s *Spool, tgt *fakeTarget) *Spool {
			before := copyDir(t, s.Dir())
			if _, err := s.Replay(context.Background(), tgt); err != nil {
				t.Fatal(err)
			}
			return mustOpen(t, copyDir(t, before))
		}},
		{"done marker deleted", func(t *testing.T, s *Spool, tgt *fakeTarget) *Spool {
			tgt.fail = failAt(3) // keep entry 3 pending, so that the log is not compacted
			if _, err := s.Replay(context.Background(), tgt); err == nil {
				t.Fatal("Replay with the store down succeeded")
			}
			tgt.fail = nil
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(s.Dir(), markerName)); err != nil {
				t.Fatal(err)
			}
			s = mustOpen(t, s.Dir())
			if s.Pending() != 3 {
				t.Errorf("Pending without a marker = %d, want 3", s.Pending())
			}
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t, "")
			mustAppendObjections(t, s, 0, 3)
			tgt := &fakeTarget{}
			s = tt.run(t, s, tgt)
			if _, err := s.Replay(context.Background(), tgt); err != nil {
				t.Fatal(err)
			}
			if got, want := keysOf(tgt.objections), wantKeys(0, 3); !reflect.DeepEqual(got, want) {
				t.Errorf("store holds %q, want %q exactly once", got, want)
			}
			if tgt.repeats == 0 {
				t.Error("no entry was delivered twice: the test did not simulate the crash")
			}
			if s.Pending() != 0 {
				t.Errorf("Pending = %d, want 0", s.Pending())
			}
		})
	}
}

func TestProviderRetrySpooledTwice(t *testing.T) {
	// A provider retries the webhook and the key press is prepared and
	// spooled twice, with two IDs: the store keeps the first.
	s := mustOpen(t, "")
	first, retry := testObjection(1), testObjection(1)
	retry.ID = objections.NewID(retry.ReceivedAt.Add(2e9))
	for _, o := range []objections.Objection{first, retry} {
		if err := s.AppendObjection(o); err != nil {
			t.Fatal(err)
		}
	}
	tgt := &fakeTarget{}
	if _, err := s.Replay(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	if len(tgt.objections) != 1 || tgt.objections[0].ID != first.ID || tgt.repeats != 1 {
		t.Errorf("store holds %d objections (repeats %d), want only the first", len(tgt.objections), tgt.repeats)
	}
}

func TestReplayCorruptAfterOpen(t *testing.T) {
	// Damage that appears after Open (the disk) stops Replay at the record
	// and names its offset; the entries before it are delivered.
	s := mustOpen(t, "")
	mustAppendObjections(t, s, 0, 3)
	_, offs := readLog(t, s.Dir())
	f, err := os.OpenFile(filepath.Join(s.Dir(), logName), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), offs[1]+40); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	tgt := &fakeTarget{}
	n, err := s.Replay(context.Background(), tgt)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Offset != offs[1] || n != 1 {
		t.Errorf("Replay = %d, %v; want 1 and a *CorruptError at offset %d", n, err, offs[1])
	}
	if s.Pending() != 2 {
		t.Errorf("Pending = %d, want 2", s.Pending())
	}
}
