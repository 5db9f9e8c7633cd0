package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

func TestAppendReplay(t *testing.T) {
	tests := []struct {
		name       string
		objections int
		offers     bool // an offer after each objection
	}{
		{"nothing", 0, false},
		{"one objection", 1, false},
		{"objections", 20, false},
		{"objections and offers", 20, true},
		{"past a checkpoint", 3*checkpointEvery + 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t, "")
			var wantObj []objections.Objection
			var wantOff []objections.Offer
			for i := range tt.objections {
				o := testObjection(i)
				if err := s.AppendObjection(o); err != nil {
					t.Fatal(err)
				}
				wantObj = append(wantObj, o)
				if tt.offers {
					of := testOffer(i, o.ID)
					if err := s.AppendOffer(of); err != nil {
						t.Fatal(err)
					}
					wantOff = append(wantOff, of)
				}
			}
			want := len(wantObj) + len(wantOff)
			if got := s.Pending(); got != want {
				t.Fatalf("Pending before replay = %d, want %d", got, want)
			}

			tgt := &fakeTarget{}
			n, err := s.Replay(context.Background(), tgt)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			if n != want || tgt.calls != want {
				t.Errorf("Replay delivered %d in %d calls, want %d", n, tgt.calls, want)
			}
			// Every field as appended: the ID and ReceivedAt of the key
			// press, not new ones.
			if !reflect.DeepEqual(tgt.objections, wantObj) {
				t.Errorf("target got objections\n%+v\nwant\n%+v", tgt.objections, wantObj)
			}
			if !reflect.DeepEqual(tgt.offers, wantOff) {
				t.Errorf("target got offers\n%+v\nwant\n%+v", tgt.offers, wantOff)
			}
			if got := s.Pending(); got != 0 {
				t.Errorf("Pending after replay = %d, want 0", got)
			}
			if got := fileSize(t, filepath.Join(s.Dir(), logName)); got != 0 {
				t.Errorf("log is %d bytes after everything was replayed, want compacted to 0", got)
			}

			// Nothing is delivered again, in this process or the next.
			s = reopen(t, s)
			if got := s.Pending(); got != 0 {
				t.Errorf("Pending after reopen = %d, want 0", got)
			}
			if n, err := s.Replay(context.Background(), tgt); n != 0 || err != nil {
				t.Errorf("second Replay = %d, %v; want 0, nil", n, err)
			}
		})
	}
}

func TestOrderAcrossKinds(t *testing.T) {
	s := mustOpen(t, "")
	var order []string
	tgt := &orderTarget{log: &order}
	o := testObjection(1)
	if err := s.AppendOffer(testOffer(0, "")); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendObjection(o); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendOffer(testOffer(1, o.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replay(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	want := []string{"offer " + testOffer(0, "").CallRef, "objection key-1", "offer " + testOffer(1, "").CallRef}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("delivery order %q, want %q", order, want)
	}
}

type orderTarget struct{ log *[]string }

func (o *orderTarget) RecordObjection(_ context.Context, x objections.Objection) (objections.Objection, bool, error) {
	*o.log = append(*o.log, "objection "+x.IdempotencyKey)
	return x, true, nil
}

func (o *orderTarget) RecordOffer(_ context.Context, x objections.Offer) (objections.Offer, bool, error) {
	*o.log = append(*o.log, "offer "+x.CallRef)
	return x, true, nil
}

func TestSeqContinuesAfterCompaction(t *testing.T) {
	s := mustOpen(t, "")
	mustAppendObjections(t, s, 0, 3)
	if _, err := s.Replay(context.Background(), &fakeTarget{}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	mustAppendObjections(t, s, 3, 5)
	es, _ := readLog(t, s.Dir())
	if len(es) != 2 || es[0].Seq != 4 || es[1].Seq != 5 {
		t.Fatalf("log after compaction holds %+v, want seqs 4 and 5", es)
	}
	if got := s.Pending(); got != 2 {
		t.Errorf("Pending = %d, want 2", got)
	}
}

func TestOpenCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "spool")
	s := mustOpen(t, dir)
	mustAppendObjections(t, s, 0, 1)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("folder mode %v, want 0700", got)
	}
	fi, err = os.Stat(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("log mode %v, want 0600", got)
	}
}

func TestOpenEmptyDir(t *testing.T) {
	_, err := Open(" ")
	if objections.ErrorCode(err) != objections.EINVALID {
		t.Errorf("Open(\" \") = %v, want EINVALID", err)
	}
}

func TestOpenLocked(t *testing.T) {
	s := mustOpen(t, "")
	_, err := Open(s.Dir())
	if objections.ErrorCode(err) != objections.ECONFLICT {
		t.Fatalf("second Open = %v, want ECONFLICT", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	_ = s2.Close()
}

func TestClosed(t *testing.T) {
	s := mustOpen(t, "")
	mustAppendObjections(t, s, 0, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := s.AppendObjection(testObjection(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Replay(context.Background(), &fakeTarget{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Replay after Close = %v, want ErrClosed", err)
	}
}

func TestAppendRejects(t *testing.T) {
	objTests := []struct {
		name  string
		edit  func(o *objections.Objection)
		field string
	}{
		{"no id", func(o *objections.Objection) { o.ID = "" }, "id"},
		{"no received_at", func(o *objections.Objection) { o.ReceivedAt = time.Time{} }, "received_at"},
		{"no org", func(o *objections.Objection) { o.Org = "" }, "org"},
		{"not prepared", func(o *objections.Objection) { o.Status = "" }, "status"},
		{"voided", func(o *objections.Objection) { o.Status = objections.StatusVoided }, "status"},
		{"active without number", func(o *objections.Objection) { o.Number = "" }, "number"},
		{"no key, no call ref", func(o *objections.Objection) { o.IdempotencyKey, o.CallRef = "", "" }, "idempotency_key"},
		{"no key, no provider", func(o *objections.Objection) { o.IdempotencyKey, o.Provider = "", "" }, "idempotency_key"},
	}
	for _, tt := range objTests {
		t.Run("objection "+tt.name, func(t *testing.T) {
			s := mustOpen(t, "")
			o := testObjection(1)
			tt.edit(&o)
			assertInvalid(t, s.AppendObjection(o), tt.field)
			if s.Pending() != 0 {
				t.Errorf("Pending = %d after a rejected append", s.Pending())
			}
		})
	}
	offerTests := []struct {
		name  string
		edit  func(o *objections.Offer)
		field string
	}{
		{"no id", func(o *objections.Offer) { o.ID = "" }, "id"},
		{"no org", func(o *objections.Offer) { o.Org = "" }, "org"},
		{"no call ref", func(o *objections.Offer) { o.CallRef = "" }, "call_ref"},
		{"no provider", func(o *objections.Offer) { o.Provider = "" }, "call_ref"},
		{"bad outcome", func(o *objections.Offer) { o.Outcome = "maybe" }, "outcome"},
	}
	for _, tt := range offerTests {
		t.Run("offer "+tt.name, func(t *testing.T) {
			s := mustOpen(t, "")
			o := testOffer(1, "")
			tt.edit(&o)
			assertInvalid(t, s.AppendOffer(o), tt.field)
		})
	}
	t.Run("too large", func(t *testing.T) {
		s := mustOpen(t, "")
		o := testObjection(1)
		o.Note = strings.Repeat("x", maxRecord)
		if err := s.AppendObjection(o); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("Append of a %d-byte note = %v, want EINVALID", maxRecord, err)
		}
	})
	t.Run("pending number with dialer ref and key", func(t *testing.T) {
		s := mustOpen(t, "")
		o := testObjection(1)
		o.Number, o.Status, o.Provider, o.CallRef, o.DialerCallRef = "", objections.StatusPendingNumber, "", "", "d-1"
		if err := s.AppendObjection(o); err != nil {
			t.Errorf("Append pending_number objection with an idempotency key = %v, want nil", err)
		}
	})
}

func assertInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var e *objections.Error
	if !errors.As(err, &e) || e.Code != objections.EINVALID || e.Field != field {
		t.Errorf("error = %v, want EINVALID naming %s", err, field)
	}
}

func TestTornTail(t *testing.T) {
	// cut returns the log with the third record damaged the way a crash
	// in the middle of its append can leave it.
	tests := []struct {
		name string
		cut  func(log []byte, third int) []byte
	}{
		{"one byte of it", func(b []byte, at int) []byte { return b[:at+1] }},
		{"half of it", func(b []byte, at int) []byte { return b[:at+(len(b)-at)/2] }},
		{"all but the newline", func(b []byte, at int) []byte { return b[:len(b)-1] }},
		{"zeros instead of it", func(b []byte, at int) []byte {
			return append(b[:at:at], make([]byte, len(b)-at)...)
		}},
		{"zeros in its middle, newline kept", func(b []byte, at int) []byte {
			c := append([]byte(nil), b...)
			copy(c[at+20:], make([]byte, 30))
			return c
		}},
		{"checksum of it cut", func(b []byte, at int) []byte { return b[:at+4] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t, "")
			mustAppendObjections(t, s, 0, 3)
			dir := s.Dir()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, logName)
			_, offs := readLog(t, dir)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tt.cut(b, int(offs[2]))
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}

			s, err = Open(dir)
			if err != nil {
				t.Fatalf("Open with a torn tail: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if got := s.Pending(); got != 2 {
				t.Errorf("Pending = %d, want 2", got)
			}
			if got, want := s.TornTail(), int64(len(damaged))-offs[2]; got != want {
				t.Errorf("TornTail = %d, want %d", got, want)
			}
			if got := fileSize(t, path); got != offs[2] {
				t.Errorf("log is %d bytes, want cut to %d", got, offs[2])
			}
			// The next append follows the two good records, with the seq
			// the torn one would have had.
			mustAppendObjections(t, s, 3, 4)
			s = reopen(t, s)
			if s.TornTail() != 0 {
				t.Errorf("TornTail after a clean reopen = %d", s.TornTail())
			}
			tgt := &fakeTarget{}
			if _, err := s.Replay(context.Background(), tgt); err != nil {
				t.Fatal(err)
			}
			if got, want := keysOf(tgt.objections), []string{"key-0", "key-1", "key-3"}; !reflect.DeepEqual(got, want) {
				t.Errorf("replayed %q, want %q", got, want)
			}
		})
	}
}

func TestCorruptMiddle(t *testing.T) {
	// damage changes the second of three records (which starts at at and
	// ends before end) in a way a crash cannot.
	tests := []struct {
		name   string
		damage func(log []byte, at, end int) []byte
		reason string
	}{
		{"checksum digit", func(b []byte, at, end int) []byte {
			b[at] = map[bool]byte{true: '1', false: '0'}[b[at] == '0']
			return b
		}, "checksum mismatch"},
		{"flipped bit in the JSON", func(b []byte, at, end int) []byte { b[at+40] ^= 0x01; return b }, "checksum mismatch"},
		{"zeros", func(b []byte, at, end int) []byte { copy(b[at:end-1], make([]byte, end-1-at)); return b }, "does not start with a checksum"},
		{"newline lost", func(b []byte, at, end int) []byte { return append(b[:end-1:end-1], b[end:]...) }, "does not end with a newline"},
		{"garbage line inserted", func(b []byte, at, end int) []byte {
			return append(append(b[:at:at], "garbage\n"...), b[at:]...)
		}, "does not start with a checksum"},
		{"length made larger than the rest", func(b []byte, at, end int) []byte { copy(b[at+9:], "000fff00"); return b }, "incomplete"},
		{"length made smaller", func(b []byte, at, end int) []byte { copy(b[at+9:], "00000010"); return b }, "checksum mismatch"},
		{"record dropped", func(b []byte, at, end int) []byte { return append(b[:at:at], b[end:]...) }, "seq 3 after seq 1"},
		{"good checksum, not an entry", func(b []byte, at, end int) []byte {
			return append(append(b[:at:at], rawRecord(`{"seq":2,"kind":"offer"}`)...), b[end:]...)
		}, "does not hold exactly one offer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir)
			mustAppendObjections(t, s, 0, 3)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, logName)
			_, offs := readLog(t, dir)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(b, int(offs[1]), int(offs[2])), 0o600); err != nil {
				t.Fatal(err)
			}

			_, err = Open(dir)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open = %v, want a *CorruptError", err)
			}
			if ce.Offset != offs[1] {
				t.Errorf("Offset = %d, want %d", ce.Offset, offs[1])
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("offset %d", offs[1])) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not name offset %d and %q", err, offs[1], tt.reason)
			}
			if objections.ErrorCode(err) != objections.EINTERNAL {
				t.Errorf("ErrorCode = %q, want internal", objections.ErrorCode(err))
			}
		})
	}
}

func TestCorruptLastRecordWithGoodChecksum(t *testing.T) {
	// A whole last record (good checksum) with the wrong seq was written as
	// such: that is not a torn append but damage.
	dir := t.TempDir()
	s := mustOpen(t, dir)
	mustAppendObjections(t, s, 0, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rec, err := encodeRecord(Entry{Seq: 7, Kind: KindObjection, Objection: new(testObjection(2))})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, logName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(rec); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	var ce *CorruptError
	if _, err := Open(dir); !errors.As(err, &ce) || !strings.Contains(err.Error(), "seq 7 after seq 2") {
		t.Errorf("Open = %v, want a *CorruptError about seq 7", err)
	}
}

func TestDamagedMarker(t *testing.T) {
	tests := []struct {
		name, content string
	}{
		{"empty", ""},
		{"no newline", "0e3b3b04 12"},
		{"bad checksum", "00000000 12\n"},
		{"not a number", string(formatMarker(12))[:9] + "xy\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, markerName), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			if objections.ErrorCode(err) != objections.EINTERNAL || !strings.Contains(err.Error(), markerName) {
				t.Errorf("Open = %v, want EINTERNAL naming the marker", err)
			}
		})
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	for _, seq := range []uint64{0, 1, 64, 1<<64 - 1} {
		got, err := parseMarker(formatMarker(seq))
		if err != nil || got != seq {
			t.Errorf("parseMarker(formatMarker(%d)) = %d, %v", seq, got, err)
		}
	}
}

func TestConcurrentAppend(t *testing.T) {
	const (
		goroutines = 32
		each       = 20
	)
	s := mustOpen(t, "")
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each) // one slot per append: never blocks
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				o := testObjection(g*each + i)
				o.IdempotencyKey = fmt.Sprintf("g%d-%d", g, i)
				if err := s.AppendObjection(o); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.Pending(); got != goroutines*each {
		t.Errorf("Pending = %d, want %d", got, goroutines*each)
	}

	s = reopen(t, s)
	if s.TornTail() != 0 {
		t.Errorf("TornTail = %d, want 0", s.TornTail())
	}
	es, _ := readLog(t, s.Dir())
	if len(es) != goroutines*each {
		t.Fatalf("log holds %d records, want %d", len(es), goroutines*each)
	}
	seen := map[string]bool{}
	last := map[int]int{} // per goroutine, its last i: appends of one goroutine stay in order
	for k, e := range es {
		if e.Seq != uint64(k+1) {
			t.Fatalf("record %d has seq %d", k, e.Seq)
		}
		key := e.Objection.IdempotencyKey
		if seen[key] {
			t.Errorf("%s twice", key)
		}
		seen[key] = true
		var g, i int
		if _, err := fmt.Sscanf(key, "g%d-%d", &g, &i); err != nil {
			t.Fatal(err)
		}
		if prev, ok := last[g]; ok && i != prev+1 {
			t.Errorf("goroutine %d: %d after %d", g, i, prev)
		}
		last[g] = i
	}
}

func TestAppendDuringReplay(t *testing.T) {
	// A key press spooled while Replay runs waits for the next Replay, and
	// the log is not compacted under it.
	s := mustOpen(t, "")
	mustAppendObjections(t, s, 0, 3)
	appended := false
	tgt := &fakeTarget{fail: func() error {
		if !appended {
			appended = true
			if err := s.AppendObjection(testObjection(3)); err != nil {
				return err
			}
		}
		return nil
	}}
	n, err := s.Replay(context.Background(), tgt)
	if err != nil || n != 3 {
		t.Fatalf("Replay = %d, %v; want 3, nil", n, err)
	}
	if got := s.Pending(); got != 1 {
		t.Fatalf("Pending = %d, want 1", got)
	}
	s = reopen(t, s)
	if got := s.Pending(); got != 1 {
		t.Fatalf("Pending after reopen = %d, want 1", got)
	}
	if _, err := s.Replay(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(tgt.objections), wantKeys(0, 4); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
}

func TestBrokenNeedsReopen(t *testing.T) {
	// After a failed fsync the spool refuses appends (what the kernel kept
	// is unknown) until it is opened again and reads the disk.
	s := mustOpen(t, "")
	mustAppendObjections(t, s, 0, 1)
	s.mu.Lock()
	s.broken = errors.New("fsync: input/output error")
	s.mu.Unlock()
	err := s.AppendObjection(testObjection(1))
	if objections.ErrorCode(err) != objections.EUNAVAILABLE || !strings.Contains(err.Error(), "reopening") {
		t.Errorf("Append on a broken spool = %v, want EUNAVAILABLE asking to reopen", err)
	}
	if _, err := s.Replay(context.Background(), &fakeTarget{}); objections.ErrorCode(err) != objections.EUNAVAILABLE {
		t.Errorf("Replay on a broken spool = %v, want EUNAVAILABLE", err)
	}
	s = reopen(t, s)
	mustAppendObjections(t, s, 1, 2)
	if s.Pending() != 2 {
		t.Errorf("Pending after reopen = %d, want 2", s.Pending())
	}
}
