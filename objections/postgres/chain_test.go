package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// testObjection is an objection as Register prepares it, for calling the
// store directly. It may be called from any goroutine.
func testObjection(t testing.TB, id, number string) objections.Objection {
	t.Helper()
	o := objections.Objection{ID: id, Org: "acme", Number: number, RawNumber: number,
		ReceivedAt: time.Now(), Source: objections.SourceAPI, Actor: "test"}
	if err := o.CheckStorable(); err != nil {
		t.Errorf("test objection: %v", err)
	}
	return o
}

// runBatch commits ops as one batch, as the writer does when they arrive
// together, and returns their answers.
func runBatch(s *Store, runs ...chainFunc) []error {
	ops := make([]*chainOp, len(runs))
	for i, run := range runs {
		ops[i] = &chainOp{ctx: context.Background(), run: run, done: make(chan error, 1)}
	}
	s.chain.run(ops)
	errs := make([]error, len(ops))
	for i, op := range ops {
		errs[i] = translate("test", <-op.done)
	}
	return errs
}

// One write that fails in the database (here a duplicate id) aborts the
// shared transaction; the others of its batch are committed all the same.
func TestBatchIsolatesFailure(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	var a, b, c recorded[objections.Objection]
	errs := runBatch(s,
		recordObjection(testObjection(t, "01A", "+31612000001"), &a),
		recordObjection(testObjection(t, "01A", "+31612000002"), &b), // same id
		recordObjection(testObjection(t, "01C", "+31612000003"), &c),
	)
	if errs[0] != nil || errs[2] != nil || objections.ErrorCode(errs[1]) != objections.ECONFLICT {
		t.Fatalf("answers = %v; want nil, conflict, nil", errs)
	}
	if !a.created || !c.created {
		t.Fatalf("a %+v, c %+v: want both created", a, c)
	}
	list, err := s.Objections(ctx, objections.ObjectionFilter{})
	if err != nil || len(list) != 2 || list[0].Number != "+31612000001" || list[1].Number != "+31612000003" {
		t.Fatalf("stored = %+v, %v", list, err)
	}
	if n, err := objections.VerifyChain(ctx, s); err != nil || n != 2 {
		t.Fatalf("verify = %d, %v", n, err)
	}
}

// A write whose answer is an outcome (not found, voided already, a repeat)
// does not abort the batch; a repeat within one batch is recognised.
func TestBatchOutcomes(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	var first, repeat recorded[objections.Objection]
	var voided, unknown, again objections.Objection
	v := objections.Void{ObjectionID: "01A", Actor: "admin", Reason: "test", At: time.Now().UTC().Truncate(time.Microsecond)}
	errs := runBatch(s,
		recordObjection(testObjection(t, "01A", "+31612000001"), &first),
		recordObjection(testObjection(t, "01B", "+31612000001"), &repeat),
		voidObjection(objections.Void{ObjectionID: "01NOPE", Actor: "a", Reason: "r", At: v.At}, &unknown),
		voidObjection(v, &voided),
		voidObjection(v, &again),
	)
	want := []string{"", "", objections.ENOTFOUND, "", objections.ECONFLICT}
	for i, err := range errs {
		if objections.ErrorCode(err) != want[i] {
			t.Fatalf("answer %d = %v; want %q (all: %v)", i, err, want[i], errs)
		}
	}
	if !first.created || repeat.created || repeat.rec.ID != "01A" || voided.Status != objections.StatusVoided {
		t.Fatalf("first %+v, repeat %+v, voided %+v", first, repeat, voided)
	}
	if n, err := objections.VerifyChain(ctx, s); err != nil || n != 2 {
		t.Fatalf("verify = %d, %v; want 2 events", n, err)
	}
}

// A caller that gave up before its batch began is not written.
func TestBatchSkipsAbandoned(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out recorded[objections.Objection]
	op := &chainOp{ctx: ctx, run: recordObjection(testObjection(t, "01A", "+31612000001"), &out), done: make(chan error, 1)}
	s.chain.run([]*chainOp{op})
	if err := <-op.done; err != context.Canceled {
		t.Fatalf("answer = %v; want context.Canceled", err)
	}
	if _, err := s.Objection(context.Background(), "01A"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("abandoned write was stored: %v", err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	s := openStore(t)
	s.Close()
	_, _, err := s.RecordObjection(context.Background(), testObjection(t, "01A", "+31612000001"))
	if objections.ErrorCode(err) != objections.EUNAVAILABLE {
		t.Fatalf("err = %v; want unavailable", err)
	}
}

// Many writers through one store: every write answered, each once, and the
// batches chain in order.
func TestBatchUnderLoad(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, created, err := s.RecordObjection(ctx, testObjection(t, fmt.Sprintf("01L%03d", i), fmt.Sprintf("+31612%06d", i)))
			if err == nil && !created {
				err = fmt.Errorf("objection %d not created", i)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got, err := objections.VerifyChain(ctx, s); err != nil || got != n {
		t.Fatalf("verify = %d, %v; want %d", got, err, n)
	}
}
