package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// decisionsEnv is an API over b where org acme has a consent on
// 0687654321 and an objection (o) on 0612345678, and 0611111111 has
// neither.
func decisionsEnv(t *testing.T, b backend) (*apiEnv, objections.Objection) {
	t.Helper()
	e := newEnv(t, b, Config{})
	setOrg(t, e.reg, "acme", objections.SectorCharity)
	if _, err := e.reg.PutConsent(context.Background(), objections.Consent{Org: "acme", Number: "0687654321", GivenAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return e, recordVia(t, e.reg, "acme", "0612345678")
}

// Dial-time checks are logged: every blocked one in full with the list
// version and the token, every one in the daily counts, and the first
// block of each objection once. Scrubs are not logged.
func TestDecisionLogChecks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e, o := decisionsEnv(t, b)
		ctx := context.Background()
		check := func(number string) decisionView {
			t.Helper()
			var d decisionView
			e.do(req{method: "GET", path: "/v1/callability/" + number + "?org=acme", role: access.RoleDialer}).want(t, http.StatusOK).json(t, &d)
			if d.ListVersion != 1 {
				t.Fatalf("%s: list version %d, want 1 (one event in the log)", number, d.ListVersion)
			}
			return d
		}
		for range 3 {
			if d := check("0612345678"); d.Callable {
				t.Fatal("the objected number is callable")
			}
		}
		for range 2 {
			if d := check("0687654321"); !d.Callable {
				t.Fatal("the consented number is not callable")
			}
		}
		check("0611111111") // no basis
		e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: "0612345678\n0611111111\n0687654321\n",
			contentType: "text/csv"}).want(t, http.StatusOK)
		e.srv.decisions.flush(ctx)

		dl := e.store
		recs, err := dl.Decisions(ctx, "acme", "+31612345678", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Fatalf("%d records of the objected number, want 3: %+v", len(recs), recs)
		}
		for _, r := range recs {
			if r.Callable || r.ObjectionID != o.ID || r.ListVersion != 1 || r.MainReason() != objections.ReasonObjection ||
				!strings.HasPrefix(r.TokenName, "test-dialer-") || r.ID == "" || r.Org != "acme" {
				t.Fatalf("record = %+v", r)
			}
		}
		if recs[0].DecidedAt.Before(recs[1].DecidedAt) || recs[1].DecidedAt.Before(recs[2].DecidedAt) {
			t.Fatalf("records not newest first: %+v", recs)
		}
		if nb, err := dl.Decisions(ctx, "acme", "+31611111111", 10); err != nil || len(nb) != 1 || nb[0].ObjectionID != "" || nb[0].MainReason() != objections.ReasonNoBasis {
			t.Fatalf("no-basis records = %+v, %v", nb, err)
		}
		if ok, err := dl.Decisions(ctx, "acme", "+31687654321", 10); err != nil || len(ok) != 0 {
			t.Fatalf("allowed checks logged one by one: %+v, %v", ok, err)
		}

		now := time.Now()
		counts, err := dl.DecisionCounts(ctx, "acme", now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		sums := map[string]int64{}
		for _, c := range counts {
			sums[string(c.Reason)] += c.Count
		}
		if len(sums) != 3 || sums["objection"] != 3 || sums["consent"] != 2 || sums["no_basis"] != 1 {
			t.Fatalf("counts = %+v; want the checks only (objection 3, consent 2, no_basis 1)", counts)
		}

		firsts, err := dl.FirstBlocks(ctx, []string{o.ID})
		if err != nil || !firsts[o.ID].Equal(recs[2].DecidedAt) {
			t.Fatalf("first block = %v, %v; want the first check %v", firsts, err, recs[2].DecidedAt)
		}
		// Another flush with more blocked checks does not observe the
		// latency again.
		check("0612345678")
		e.srv.decisions.flush(ctx)
		a := e.do(req{method: "GET", path: "/metrics"}).want(t, http.StatusOK)
		for _, want := range []string{"verzet_revocation_first_block_seconds_count 1", "verzet_decision_log_dropped_total 0",
			"verzet_decision_log_failures_total 0", "verzet_decision_log_pending 0"} {
			if !strings.Contains(string(a.body), want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}

// Server.Run writes what the checks logged, and flushes once more when it
// stops.
func TestDecisionLogRunFlushesOnStop(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.srv.Run(ctx) }()
	e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: access.RoleDialer}).want(t, http.StatusOK)
	cancel()
	<-done
	recs, err := e.store.Decisions(context.Background(), "acme", "+31612345678", 10)
	if err != nil || len(recs) != 1 || recs[0].MainReason() != objections.ReasonNoBasis {
		t.Fatalf("records after stop = %+v, %v", recs, err)
	}
}

// fakeDecisionLog keeps appends in memory; fail, when set, decides
// whether an append fails.
type fakeDecisionLog struct {
	mu     sync.Mutex
	recs   []objections.DecisionRecord
	counts []objections.DecisionCount
	firsts map[string]time.Time
	calls  int
	fail   func(call int) error
}

var _ DecisionLog = (*fakeDecisionLog)(nil)

func (f *fakeDecisionLog) AppendDecisions(_ context.Context, blocked []objections.DecisionRecord, counts []objections.DecisionCount) ([]objections.FirstBlock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(f.calls); err != nil {
			return nil, err
		}
	}
	if err := objections.CheckDecisionRecords(blocked, counts); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, r := range f.recs {
		seen[r.ID] = true
	}
	for _, r := range blocked {
		if !seen[r.ID] {
			f.recs = append(f.recs, r)
		}
	}
	f.counts = append(f.counts, counts...)
	if f.firsts == nil {
		f.firsts = map[string]time.Time{}
	}
	var out []objections.FirstBlock
	for _, fb := range objections.FirstBlocksOf(blocked) {
		if _, ok := f.firsts[fb.ObjectionID]; !ok {
			f.firsts[fb.ObjectionID] = fb.At
			out = append(out, fb)
		}
	}
	return out, nil
}

func (f *fakeDecisionLog) Decisions(context.Context, string, string, int) ([]objections.DecisionRecord, error) {
	return nil, nil
}

func (f *fakeDecisionLog) ListDecisions(context.Context, objections.DecisionFilter) ([]objections.DecisionRecord, error) {
	return nil, nil
}

func (f *fakeDecisionLog) PurgeDecisions(context.Context, time.Time, int) (int64, error) {
	return 0, nil
}

func (f *fakeDecisionLog) DecisionCounts(context.Context, string, time.Time, time.Time) ([]objections.DecisionCount, error) {
	return nil, nil
}

func (f *fakeDecisionLog) FirstBlocks(context.Context, []string) (map[string]time.Time, error) {
	return nil, nil
}

// written returns how many records were written and the sum of the counts.
func (f *fakeDecisionLog) written() (recs int, counted int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.counts {
		counted += c.Count
	}
	return len(f.recs), counted
}

var logT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func blockedDecision(objection *objections.Objection, at time.Time) objections.Decision {
	d := objections.Decision{Org: "acme", Number: "+31612345678", At: at, Basis: objections.BasisNone,
		Reasons: []objections.Reason{objections.ReasonNoBasis}, ListVersion: 7}
	if objection != nil {
		d.Objection, d.Reasons = objection, []objections.Reason{objections.ReasonObjection}
	}
	return d
}

func allowedDecision(at time.Time) objections.Decision {
	return objections.Decision{Org: "acme", Number: "+31687654321", At: at, Callable: true, Basis: objections.BasisConsent,
		Reasons: []objections.Reason{objections.ReasonConsent}}
}

// metricValue reads a counter or gauge, or a histogram's sample count and
// sum, from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) (value float64, count uint64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetHistogram() != nil:
			return m.GetHistogram().GetSampleSum(), m.GetHistogram().GetSampleCount()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), 0
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), 0
		}
	}
	t.Fatalf("no metric %s", name)
	return 0, 0
}

// A full buffer drops blocked records (counted) without waiting, and
// still counts every check.
func TestDecisionLogBufferFull(t *testing.T) {
	fake := &fakeDecisionLog{}
	reg := prometheus.NewRegistry()
	l := newDecisionLog(fake, zaptest.NewLogger(t), reg)
	l.capacity = 3
	for i := range 5 {
		l.add(blockedDecision(nil, logT0.Add(time.Duration(i)*time.Millisecond)), access.Token{Name: "dialer-1"})
	}
	l.add(allowedDecision(logT0), access.Token{Name: "dialer-1"})
	l.add(allowedDecision(logT0), access.Token{Name: "dialer-1"})
	if v, _ := metricValue(t, reg, "verzet_decision_log_dropped_total"); v != 2 {
		t.Fatalf("dropped = %v, want 2", v)
	}
	if v, _ := metricValue(t, reg, "verzet_decision_log_pending"); v != 3 {
		t.Fatalf("pending = %v, want 3", v)
	}
	l.flush(context.Background())
	if recs, counted := fake.written(); recs != 3 || counted != 7 {
		t.Fatalf("written %d records and %d counts; want 3 and 7", recs, counted)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for i, r := range fake.recs {
		if r.TokenName != "dialer-1" || r.ListVersion != 7 || !r.DecidedAt.Equal(logT0.Add(time.Duration(i)*time.Millisecond)) || r.ID == "" {
			t.Fatalf("record %d = %+v; want the oldest three kept", i, r)
		}
	}
}

// A failed write keeps its records and counts for the next flush, which
// writes them with the same IDs; the failure is counted.
func TestDecisionLogRetry(t *testing.T) {
	fake := &fakeDecisionLog{fail: func(call int) error {
		if call == 1 {
			return objections.Unavailable("append decisions", errors.New("database down"))
		}
		return nil
	}}
	reg := prometheus.NewRegistry()
	l := newDecisionLog(fake, zaptest.NewLogger(t), reg)
	o := &objections.Objection{ID: "01OBJ", ReceivedAt: logT0}
	l.add(blockedDecision(o, logT0.Add(1500*time.Millisecond)), access.Token{Name: "d"})
	l.add(blockedDecision(o, logT0.Add(2*time.Second)), access.Token{Name: "d"})
	l.add(allowedDecision(logT0), access.Token{Name: "d"})

	l.flush(context.Background())
	if v, _ := metricValue(t, reg, "verzet_decision_log_failures_total"); v != 1 {
		t.Fatalf("failures = %v, want 1", v)
	}
	if recs, counted := fake.written(); recs != 0 || counted != 0 {
		t.Fatalf("written after a failure: %d records, %d counts", recs, counted)
	}
	l.mu.Lock()
	ids := []string{l.pending[0].rec.ID, l.pending[1].rec.ID}
	l.mu.Unlock()
	if ids[0] == "" || ids[1] == "" {
		t.Fatal("records kept without their IDs")
	}

	l.flush(context.Background())
	recs, counted := fake.written()
	if recs != 2 || counted != 3 {
		t.Fatalf("written %d records and %d counts; want 2 and 3", recs, counted)
	}
	if fake.recs[0].ID != ids[0] || fake.recs[1].ID != ids[1] {
		t.Fatalf("retried with other IDs: %s %s, want %v", fake.recs[0].ID, fake.recs[1].ID, ids)
	}
	// The first block is observed once: 1.5 s after the objection.
	if sum, n := metricValue(t, reg, "verzet_revocation_first_block_seconds"); n != 1 || sum != 1.5 {
		t.Fatalf("first block latency: %d samples, sum %v; want 1 of 1.5 s", n, sum)
	}
	l.flush(context.Background()) // nothing pending: no write
	if fake.calls != 2 {
		t.Fatalf("%d appends, want 2", fake.calls)
	}
}

// run flushes on its tick, as soon as a batch is pending, and once more
// when its context ends.
func TestDecisionLogRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeDecisionLog{}
		l := newDecisionLog(fake, zaptest.NewLogger(t), prometheus.NewRegistry())
		l.batch = 5
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); l.run(ctx) }()

		l.add(blockedDecision(nil, logT0), access.Token{})
		synctest.Wait()
		if recs, _ := fake.written(); recs != 0 {
			t.Fatalf("written before the tick: %d", recs)
		}
		time.Sleep(decisionLogInterval)
		synctest.Wait()
		if recs, counted := fake.written(); recs != 1 || counted != 1 {
			t.Fatalf("after the tick: %d records, %d counts; want 1, 1", recs, counted)
		}

		for range 5 { // a full batch: written before the next tick
			l.add(blockedDecision(nil, logT0), access.Token{})
		}
		synctest.Wait()
		if recs, _ := fake.written(); recs != 6 {
			t.Fatalf("after a full batch: %d records, want 6", recs)
		}

		l.add(blockedDecision(nil, logT0), access.Token{})
		l.add(allowedDecision(logT0), access.Token{})
		cancel()
		<-done
		if recs, counted := fake.written(); recs != 7 || counted != 8 {
			t.Fatalf("after stop: %d records, %d counts; want 7, 8", recs, counted)
		}
	})
}

// A batch the store refuses as invalid is dropped and counted, not retried
// for ever; later checks are written again.
func TestDecisionLogInvalidDropped(t *testing.T) {
	fake := &fakeDecisionLog{fail: func(call int) error {
		if call == 1 {
			return objections.Invalid("reasons", "x", "is bad")
		}
		return nil
	}}
	reg := prometheus.NewRegistry()
	l := newDecisionLog(fake, zaptest.NewLogger(t), reg)
	l.add(blockedDecision(nil, logT0), access.Token{})
	l.add(blockedDecision(nil, logT0), access.Token{})
	l.flush(context.Background())
	dropped, _ := metricValue(t, reg, "verzet_decision_log_dropped_total")
	failures, _ := metricValue(t, reg, "verzet_decision_log_failures_total")
	pending, _ := metricValue(t, reg, "verzet_decision_log_pending")
	if dropped != 2 || failures != 1 || pending != 0 {
		t.Fatalf("dropped %v, failures %v, pending %v; want 2, 1, 0", dropped, failures, pending)
	}
	l.add(blockedDecision(nil, logT0), access.Token{})
	l.flush(context.Background())
	if recs, counted := fake.written(); recs != 1 || counted != 1 || fake.calls != 2 {
		t.Fatalf("after the refusal: %d records, %d counts in %d appends; want 1, 1, 2", recs, counted, fake.calls)
	}
}

// Checks add while flushes write: nothing is lost or counted twice (run
// with -race).
func TestDecisionLogConcurrentAdd(t *testing.T) {
	fake := &fakeDecisionLog{}
	l := newDecisionLog(fake, zaptest.NewLogger(t), prometheus.NewRegistry())
	const adders, each = 4, 500
	var wg sync.WaitGroup
	for range adders {
		wg.Go(func() {
			for i := range each {
				if i%2 == 0 {
					l.add(blockedDecision(nil, logT0), access.Token{})
				} else {
					l.add(allowedDecision(logT0), access.Token{})
				}
			}
		})
	}
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
				l.flush(context.Background())
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-flushed
	l.flush(context.Background())
	if recs, counted := fake.written(); recs != adders*each/2 || counted != adders*each {
		t.Fatalf("written %d records and %d counts; want %d and %d", recs, counted, adders*each/2, adders*each)
	}
}

// The retention purge deletes the blocked records older than the
// retention, in batches, and keeps the newer ones; Run starts it.
func TestDecisionLogPurge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{DecisionRetention: 24 * time.Hour})
		ctx := context.Background()
		dl := e.store
		now := time.Now().UTC().Truncate(time.Millisecond)
		var recs []objections.DecisionRecord
		for i, age := range []time.Duration{72 * time.Hour, 49 * time.Hour, 48 * time.Hour, 25 * time.Hour, 23 * time.Hour, time.Minute} {
			at := now.Add(-age)
			recs = append(recs, objections.DecisionRecord{ID: objections.NewID(at), DecidedAt: at, Org: "acme", Number: "+31612345678",
				Basis: objections.BasisNone, Reasons: []objections.Reason{objections.ReasonNoBasis}, ListVersion: int64(i)})
		}
		if _, err := dl.AppendDecisions(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
		l := e.srv.decisions
		l.now, l.purgeBatch = func() time.Time { return now }, 3
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); e.srv.Run(runCtx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			left, err := dl.ListDecisions(ctx, objections.DecisionFilter{Org: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) == 2 {
				if left[0].ID != recs[4].ID || left[1].ID != recs[5].ID {
					t.Fatalf("kept %+v, want the two younger than a day", left)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d records left, want 2", len(left))
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if m := e.do(req{method: "GET", path: "/metrics"}).want(t, http.StatusOK); !strings.Contains(string(m.body), "\nverzet_decision_log_purged_total 4\n") {
			t.Fatalf("metrics lack verzet_decision_log_purged_total 4:\n%s", m.body)
		}
	})
}

// A negative retention keeps everything: no purge runs.
func TestDecisionLogKeepForever(t *testing.T) {
	e := newEnv(t, backends()[0], Config{DecisionRetention: -1})
	ctx := context.Background()
	at := time.Now().AddDate(-20, 0, 0)
	rec := objections.DecisionRecord{ID: objections.NewID(at), DecidedAt: at, Org: "acme", Number: "+31612345678",
		Basis: objections.BasisNone, Reasons: []objections.Reason{objections.ReasonNoBasis}}
	if _, err := e.store.AppendDecisions(ctx, []objections.DecisionRecord{rec}, nil); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	cancel()
	e.srv.decisions.purgeLoop(runCtx) // returns at once: nothing to do
	left, err := e.store.ListDecisions(ctx, objections.DecisionFilter{})
	if err != nil || len(left) != 1 {
		t.Fatalf("after the purge loop: %d records, %v", len(left), err)
	}
}
