package spool

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/verzet/verzet/objections"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childModeEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	goleak.VerifyTestMain(m)
}

// t0 is the time of the first test key press.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testObjection returns the i-th prepared objection, as Register.Record
// would hand it to the store.
func testObjection(i int) objections.Objection {
	at := t0.Add(time.Duration(i) * time.Second)
	return objections.Objection{
		ID:             objections.NewID(at),
		Org:            "acme",
		Number:         fmt.Sprintf("+3161234%04d", i),
		RawNumber:      fmt.Sprintf("06 1234 %04d", i),
		ReceivedAt:     at,
		Source:         objections.SourceIVRTwilio,
		Provider:       "twilio",
		CallRef:        fmt.Sprintf("CA%032d", i),
		CampaignRef:    "spring",
		Actor:          "system",
		IdempotencyKey: fmt.Sprintf("key-%d", i),
		Status:         objections.StatusActive,
	}
}

// testOffer returns the evidence of the call of testObjection(i).
func testOffer(i int, objectionID string) objections.Offer {
	at := t0.Add(time.Duration(i) * time.Second)
	return objections.Offer{
		ID:            objections.NewID(at),
		Org:           "acme",
		Number:        fmt.Sprintf("+3161234%04d", i),
		Provider:      "twilio",
		CallRef:       fmt.Sprintf("CA%032d", i),
		CampaignRef:   "spring",
		PromptID:      "objection-offer",
		PromptVersion: "3",
		Language:      "nl",
		PromptHash:    "sha256:0f1e",
		PlayedMS:      5400,
		Keys:          []objections.Key{{Digit: "1", At: at.Add(-time.Second), Mode: "rfc4733"}, {Digit: "1", At: at, Mode: "rfc4733"}},
		Outcome:       objections.OutcomeObjected,
		EndedBy:       objections.EndedByCaller,
		StartedAt:     at.Add(-10 * time.Second),
		EndedAt:       at.Add(time.Second),
		ObjectionID:   objectionID,
	}
}

// mustOpen opens the spool in dir (a new temp folder when empty) and closes
// it when the test ends.
func mustOpen(tb testing.TB, dir string) *Spool {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	s, err := Open(dir)
	if err != nil {
		tb.Fatalf("open spool %s: %v", dir, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// reopen closes s and opens its folder again.
func reopen(tb testing.TB, s *Spool) *Spool {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatalf("close: %v", err)
	}
	return mustOpen(tb, s.Dir())
}

func mustAppendObjections(tb testing.TB, s *Spool, from, to int) {
	tb.Helper()
	for i := from; i < to; i++ {
		if err := s.AppendObjection(testObjection(i)); err != nil {
			tb.Fatalf("append objection %d: %v", i, err)
		}
	}
}

// readLog returns the entries in the log file of dir, without checks beyond
// decoding, and the offset where each record starts.
func readLog(tb testing.TB, dir string) ([]Entry, []int64) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		tb.Fatal(err)
	}
	var (
		es   []Entry
		offs []int64
		off  int64
	)
	for len(b) > 0 {
		e, n, err := decodeRecord(b)
		if err != nil {
			tb.Fatalf("log record at offset %d: %v", off, err)
		}
		es = append(es, e)
		offs = append(offs, off)
		b, off = b[n:], off+int64(n)
	}
	return es, offs
}

// copyDir copies the files of the spool folder src into a new temp folder:
// the state on disk at that moment, as a crash would leave it.
func copyDir(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	for _, name := range []string{logName, markerName} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dst
}

// fakeTarget is a store that keeps what it records in memory and, like the
// real ones, recognises a repeat by (org, idempotency key) or (provider,
// call ref). Its optional funcs simulate an outage.
type fakeTarget struct {
	// fail runs before each delivery; an error means the store is down and
	// nothing is recorded.
	fail func() error
	// after runs after a delivery was recorded; an error means the response
	// was lost (the store committed, the caller cannot know).
	after func() error

	mu         sync.Mutex
	calls      int
	repeats    int
	objections []objections.Objection
	offers     []objections.Offer
	seen       map[string]bool
}

var _ Target = (*fakeTarget)(nil)

func (f *fakeTarget) RecordObjection(_ context.Context, o objections.Objection) (objections.Objection, bool, error) {
	keys := []string{"call/" + o.Provider + "/" + o.CallRef}
	if o.IdempotencyKey != "" {
		keys = append(keys, "key/"+o.Org+"/"+o.IdempotencyKey)
	}
	created, err := f.record(keys, func() { f.objections = append(f.objections, o) })
	return o, created, err
}

func (f *fakeTarget) RecordOffer(_ context.Context, o objections.Offer) (objections.Offer, bool, error) {
	created, err := f.record([]string{"offer/" + o.Provider + "/" + o.CallRef}, func() { f.offers = append(f.offers, o) })
	return o, created, err
}

func (f *fakeTarget) record(keys []string, add func()) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(); err != nil {
			return false, err
		}
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	created := true
	for _, k := range keys {
		if f.seen[k] {
			created = false
		}
	}
	if created {
		for _, k := range keys {
			f.seen[k] = true
		}
		add()
	} else {
		f.repeats++
	}
	if f.after != nil {
		if err := f.after(); err != nil {
			return false, err
		}
	}
	return created, nil
}

// keysOf returns the idempotency keys of os, in order.
func keysOf(os []objections.Objection) []string {
	var ks []string
	for _, o := range os {
		ks = append(ks, o.IdempotencyKey)
	}
	return ks
}

func wantKeys(from, to int) []string {
	var ks []string
	for i := from; i < to; i++ {
		ks = append(ks, fmt.Sprintf("key-%d", i))
	}
	return ks
}

// errStoreDown is what a fake store returns during an outage.
var errStoreDown = objections.Unavailable("record objection", errors.New("connection refused"))

// failAt returns a fail func that fails the calls numbered in calls (1-based).
func failAt(calls ...int) func() error {
	n := 0
	return func() error {
		n++
		for _, c := range calls {
			if n == c {
				return errStoreDown
			}
		}
		return nil
	}
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// rawRecord frames js as a record with a good checksum and length.
func rawRecord(js string) []byte {
	body := fmt.Sprintf("%08x %s\n", len(js), js)
	return fmt.Appendf(nil, "%08x %s", crc32.Checksum([]byte(body[:len(body)-1]), castagnoli), body)
}
