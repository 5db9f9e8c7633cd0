package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// CallStore is the working state of live calls (objections.CallState)
// that webhook-driven adapters keep (telephony/twilio's Calls) and serve
// purges.
type CallStore interface {
	LoadCall(ctx context.Context, provider, ref string) (objections.CallState, error)
	SaveCall(ctx context.Context, st objections.CallState) error
	PurgeCalls(ctx context.Context, provider string, before time.Time) (int64, error)
}

// RunCallStates runs the call-state suite against the store open returns.
func RunCallStates(t *testing.T, open func(t *testing.T) CallStore) {
	suite[CallStore]{
		{"CreateLoadReplace", testCallCreateLoadReplace},
		{"Conflicts", testCallConflicts},
		{"Invalid", testCallInvalid},
		{"ConcurrentWriters", testCallConcurrentWriters},
		{"Purge", testCallPurge},
	}.run(t, open)
}

var callT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func testCallCreateLoadReplace(t *testing.T, s CallStore) {
	ctx := context.Background()
	if _, err := s.LoadCall(ctx, "twilio", "CA1"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("load before create: %v, want not_found", err)
	}
	st := objections.CallState{Provider: "twilio", Ref: "CA1", Version: 1, Data: []byte(`{"step":1}`), UpdatedAt: callT0.Add(123456789 * time.Nanosecond)}
	if err := s.SaveCall(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadCall(ctx, "twilio", "CA1")
	if err != nil {
		t.Fatal(err)
	}
	// Times are kept to the microsecond, in UTC.
	if got.Provider != "twilio" || got.Ref != "CA1" || got.Version != 1 || !bytes.Equal(got.Data, st.Data) ||
		!got.UpdatedAt.Equal(callT0.Add(123456*time.Microsecond)) || got.UpdatedAt.Location() != time.UTC {
		t.Fatalf("loaded %+v (data %s)", got, got.Data)
	}
	// Another provider's call with the same reference is another call.
	if _, err := s.LoadCall(ctx, "ari", "CA1"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("other provider: %v", err)
	}
	for v := int64(2); v <= 4; v++ {
		next := objections.CallState{Provider: "twilio", Ref: "CA1", Version: v, Data: fmt.Appendf(nil, `{"step":%d}`, v), UpdatedAt: callT0.Add(time.Duration(v) * time.Second)}
		if err := s.SaveCall(ctx, next); err != nil {
			t.Fatalf("save version %d: %v", v, err)
		}
	}
	got, err = s.LoadCall(ctx, "twilio", "CA1")
	if err != nil || got.Version != 4 || string(got.Data) != `{"step":4}` || !got.UpdatedAt.Equal(callT0.Add(4*time.Second)) {
		t.Fatalf("after replaces: %+v %v", got, err)
	}
	// Binary data and an empty Data round-trip.
	bin := []byte{0, 1, 2, 0xff, '\'', '"'}
	if err := s.SaveCall(ctx, objections.CallState{Provider: "twilio", Ref: "CA2", Version: 1, Data: bin}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadCall(ctx, "twilio", "CA2"); err != nil || !bytes.Equal(got.Data, bin) || got.UpdatedAt.IsZero() {
		t.Fatalf("binary: %+v %v", got, err)
	}
	if err := s.SaveCall(ctx, objections.CallState{Provider: "twilio", Ref: "CA3", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadCall(ctx, "twilio", "CA3"); err != nil || len(got.Data) != 0 {
		t.Fatalf("empty: %+v %v", got, err)
	}
}

func testCallConflicts(t *testing.T, s CallStore) {
	ctx := context.Background()
	save := func(ref string, v int64, data string) error {
		return s.SaveCall(ctx, objections.CallState{Provider: "twilio", Ref: ref, Version: v, Data: []byte(data), UpdatedAt: callT0})
	}
	if err := save("CA1", 1, "a"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		ref     string
		version int64
		code    string
	}{
		{"create twice", "CA1", 1, objections.ECONFLICT},
		{"skip a version", "CA1", 3, objections.ECONFLICT},
		{"replace a call never created", "CA9", 2, objections.ENOTFOUND},
	} {
		if err := save(tc.ref, tc.version, "lost"); objections.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if err := save("CA1", 2, "b"); err != nil {
		t.Fatal(err)
	}
	// The loser of a race saves the version it read + 1 after the winner did.
	if err := save("CA1", 2, "late"); objections.ErrorCode(err) != objections.ECONFLICT {
		t.Fatalf("stale save: %v, want conflict", err)
	}
	got, err := s.LoadCall(ctx, "twilio", "CA1")
	if err != nil || got.Version != 2 || string(got.Data) != "b" {
		t.Fatalf("a failed save changed the state: %+v %v", got, err)
	}
	if _, err := s.LoadCall(ctx, "twilio", "CA9"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("a failed replace created the call: %v", err)
	}
}

func testCallInvalid(t *testing.T, s CallStore) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		st    objections.CallState
		field string
	}{
		{"no provider", objections.CallState{Ref: "CA1", Version: 1}, "provider"},
		{"no ref", objections.CallState{Provider: "twilio", Version: 1}, "ref"},
		{"version 0", objections.CallState{Provider: "twilio", Ref: "CA1"}, "version"},
		{"negative version", objections.CallState{Provider: "twilio", Ref: "CA1", Version: -1}, "version"},
		{"long ref", objections.CallState{Provider: "twilio", Ref: string(bytes.Repeat([]byte("x"), 300)), Version: 1}, "ref"},
		{"huge data", objections.CallState{Provider: "twilio", Ref: "CA1", Version: 1, Data: make([]byte, objections.MaxCallStateData+1)}, "data"},
	} {
		err := s.SaveCall(ctx, tc.st)
		var e *objections.Error
		if objections.ErrorCode(err) != objections.EINVALID || !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	if _, err := s.LoadCall(ctx, "twilio", "CA1"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("an invalid save wrote: %v", err)
	}
}

// Eight writers take turns on one call the way webhook handlers do: load,
// change, save version+1, and on a conflict load again. No update is lost.
func testCallConcurrentWriters(t *testing.T, s CallStore) {
	ctx := context.Background()
	if err := s.SaveCall(ctx, objections.CallState{Provider: "twilio", Ref: "CA1", Version: 1, Data: []byte("0")}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 10
	var (
		wg        sync.WaitGroup
		conflicts atomic.Int64
		errs      = make(chan error, writers)
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				st, err := s.LoadCall(ctx, "twilio", "CA1")
				if err != nil {
					errs <- err
					return
				}
				var n int
				if _, err := fmt.Sscan(string(st.Data), &n); err != nil {
					errs <- err
					return
				}
				st.Version++
				st.Data = fmt.Append(nil, n+1)
				st.UpdatedAt = time.Time{}
				switch err := s.SaveCall(ctx, st); objections.ErrorCode(err) {
				case "":
					done++
				case objections.ECONFLICT, objections.EUNAVAILABLE:
					conflicts.Add(1)
				default:
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.LoadCall(ctx, "twilio", "CA1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != fmt.Sprint(writers*each) || got.Version != writers*each+1 {
		t.Fatalf("after %d increments: data %s version %d (%d conflicts)", writers*each, got.Data, got.Version, conflicts.Load())
	}
}

func testCallPurge(t *testing.T, s CallStore) {
	ctx := context.Background()
	for i, at := range []time.Time{callT0.Add(-48 * time.Hour), callT0.Add(-25 * time.Hour), callT0.Add(-time.Hour)} {
		if err := s.SaveCall(ctx, objections.CallState{Provider: "twilio", Ref: fmt.Sprint("CA", i), Version: 1, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveCall(ctx, objections.CallState{Provider: "ari", Ref: "old", Version: 1, UpdatedAt: callT0.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeCalls(ctx, "twilio", callT0.Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("purge = %d, %v; want 2", n, err)
	}
	for ref, code := range map[string]string{"CA0": objections.ENOTFOUND, "CA1": objections.ENOTFOUND, "CA2": ""} {
		if _, err := s.LoadCall(ctx, "twilio", ref); objections.ErrorCode(err) != code {
			t.Errorf("%s after purge: %v, want %q", ref, err, code)
		}
	}
	if _, err := s.LoadCall(ctx, "ari", "old"); err != nil {
		t.Errorf("purge of twilio removed another provider's call: %v", err)
	}
	if n, err := s.PurgeCalls(ctx, "twilio", callT0.Add(-24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("second purge = %d, %v", n, err)
	}
}
