package spool

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The Run tests use synctest: time in the bubble is fake and moves only when
// every goroutine in it waits, so backoff is checked to the second without
// sleeping.

func TestRunBackoff(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		// attempts are the seconds since the start at which Run called the
		// store, the last one succeeding.
		attempts []int
	}{
		{"store up", 0, []int{0}},
		{"one failure", 1, []int{0, 1}},
		{"doubling", 4, []int{0, 1, 3, 7, 15}},
		{"capped at 30s", 8, []int{0, 1, 3, 7, 15, 31, 61, 91, 121}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				s := mustOpen(t, "")
				mustAppendObjections(t, s, 0, 1)
				var (
					attempts []int
					errs     int
				)
				tgt := &fakeTarget{fail: func() error {
					attempts = append(attempts, int(time.Since(start)/time.Second))
					if len(attempts) <= tt.failures {
						return errStoreDown
					}
					return nil
				}}
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Go(func() { s.Run(ctx, tgt, time.Hour, func(error) { errs++ }) })

				time.Sleep(10 * time.Minute)
				synctest.Wait()
				cancel()
				wg.Wait()

				if !reflect.DeepEqual(attempts, tt.attempts) {
					t.Errorf("store called at %v s, want %v s", attempts, tt.attempts)
				}
				if errs != tt.failures {
					t.Errorf("onErr called %d times, want %d", errs, tt.failures)
				}
				if s.Pending() != 0 {
					t.Errorf("Pending = %d, want 0", s.Pending())
				}
			})
		})
	}
}

func TestRunReplaysAfterAppend(t *testing.T) {
	// With the store up, a spooled key press goes to the store right away,
	// not at the next tick.
	synctest.Test(t, func(t *testing.T) {
		s := mustOpen(t, "")
		tgt := &fakeTarget{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { s.Run(ctx, tgt, time.Hour, nil) })

		time.Sleep(10 * time.Second)
		mustAppendObjections(t, s, 0, 1)
		synctest.Wait()
		if len(tgt.objections) != 1 || s.Pending() != 0 {
			t.Errorf("after an append the store holds %d, Pending %d; want 1, 0", len(tgt.objections), s.Pending())
		}
		cancel()
		wg.Wait()
	})
}

func TestRunAppendDuringBackoff(t *testing.T) {
	// While the store is down, appends do not make Run call it sooner.
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := mustOpen(t, "")
		mustAppendObjections(t, s, 0, 1)
		var attempts []time.Duration
		tgt := &fakeTarget{fail: func() error {
			attempts = append(attempts, time.Since(start))
			return errStoreDown
		}}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { s.Run(ctx, tgt, time.Hour, nil) })

		time.Sleep(1500 * time.Millisecond) // attempts at 0s and 1s; next at 3s
		mustAppendObjections(t, s, 1, 3)
		time.Sleep(time.Second)
		synctest.Wait()
		cancel()
		wg.Wait()
		want := []time.Duration{0, time.Second}
		if !reflect.DeepEqual(attempts, want) {
			t.Errorf("store called at %v, want %v", attempts, want)
		}
		if s.Pending() != 3 {
			t.Errorf("Pending = %d, want 3", s.Pending())
		}
	})
}

func TestRunStops(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel func(), s *Spool)
	}{
		{"context done", func(cancel func(), _ *Spool) { cancel() }},
		{"spool closed", func(_ func(), s *Spool) { _ = s.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := mustOpen(t, "")
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan struct{})
				go func() {
					defer close(done)
					s.Run(ctx, &fakeTarget{}, time.Second, nil)
				}()
				time.Sleep(5 * time.Second)
				tt.stop(cancel, s)
				time.Sleep(2 * time.Second) // a closed spool is noticed at the next tick
				synctest.Wait()
				select {
				case <-done:
				default:
					t.Error("Run still running")
					cancel()
					<-done
				}
			})
		})
	}
}
