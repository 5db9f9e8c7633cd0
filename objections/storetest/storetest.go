// Package storetest is the conformance suite every store must pass: the
// same test bodies run against objections/sqlite and objections/postgres
// (and any future store), so that they cannot drift apart.
//
// The suite is organised per capability; a store's tests run each suite
// it implements, with a function that opens a fresh, migrated, empty store
// for one case:
//
//   - RunRegister: objections.Store, the register itself (orgs,
//     objections, voids, offers, relations, consents, facts, the event
//     chain);
//   - RunRecords: the register's reads for the supervisors' UI (search,
//     offer by call, events of a record, counts per day, candidates for
//     a partial number);
//   - RunFactsBatch: the facts of many numbers at once (the scrub);
//   - RunAccess: access.Store (users, sessions, the audit log, API tokens);
//   - RunOutbox: the transactional outbox of webhook deliveries;
//   - RunDecisionLog: the log of dial-time checks;
//   - RunCallStates: the state of live calls between webhooks;
//   - RunInstances: the heartbeat of the instances on one store.
//
// Each suite declares the interface it tests, as its users declare theirs
// (objections/httpapi, objections/review, telephony/twilio).
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// suite is one capability's cases, each run on a fresh store S.
type suite[S any] []struct {
	name string
	fn   func(t *testing.T, s S)
}

// run runs every case as a subtest on a store open returns.
func (cs suite[S]) run(t *testing.T, open func(t *testing.T) S) {
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

// t0 is when every suite's clock starts.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixedClock is a controllable clock.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock returns a clock at t0 that moves a millisecond per reading.
func newClock() *fixedClock { return &fixedClock{t: t0} }

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *fixedClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newRegister returns a register over s with a new clock.
func newRegister(s objections.Store) (*objections.Register, *fixedClock) {
	clk := newClock()
	return objections.NewRegister(s, objections.Numbers{Region: "NL"}, clk.Now), clk
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func record(t *testing.T, r *objections.Register, o objections.Objection) (objections.Objection, bool) {
	t.Helper()
	got, created, err := r.Record(context.Background(), o)
	if err != nil {
		t.Fatalf("record %+v: %v", o, err)
	}
	return got, created
}

func decide(t *testing.T, r *objections.Register, org, number, person string) objections.Decision {
	t.Helper()
	d, err := r.Decide(context.Background(), org, number, person, time.Time{})
	if err != nil {
		t.Fatalf("decide %s %s: %v", org, number, err)
	}
	return d
}

func wantReasons(t *testing.T, d objections.Decision, callable bool, reasons ...objections.Reason) {
	t.Helper()
	if d.Callable != callable || fmt.Sprint(d.Reasons) != fmt.Sprint(reasons) {
		t.Fatalf("decision = callable %v reasons %v; want callable %v reasons %v", d.Callable, d.Reasons, callable, reasons)
	}
}

func setOrg(t *testing.T, r *objections.Register, id string, sector objections.Sector) {
	t.Helper()
	if _, err := r.SetOrg(context.Background(), objections.Org{ID: id, Name: "Org " + id, Sector: sector}); err != nil {
		t.Fatal(err)
	}
}

// Store is everything a complete store implements: the capability of
// every suite. objections/sqlite and objections/postgres are complete.
type Store interface {
	RecordsStore
	FactsBatchStore
	OutboxStore
	access.Store
	DecisionLog
	CallStore
	InstanceStore
}

// RunAll runs every suite, one subtest per capability, against the store
// open returns.
func RunAll(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Register", func(t *testing.T) { RunRegister(t, func(t *testing.T) objections.Store { return open(t) }) })
	t.Run("Records", func(t *testing.T) { RunRecords(t, func(t *testing.T) RecordsStore { return open(t) }) })
	t.Run("FactsBatch", func(t *testing.T) { RunFactsBatch(t, func(t *testing.T) FactsBatchStore { return open(t) }) })
	t.Run("Access", func(t *testing.T) { RunAccess(t, func(t *testing.T) access.Store { return open(t) }) })
	t.Run("Outbox", func(t *testing.T) { RunOutbox(t, func(t *testing.T) OutboxStore { return open(t) }) })
	t.Run("DecisionLog", func(t *testing.T) { RunDecisionLog(t, func(t *testing.T) DecisionLog { return open(t) }) })
	t.Run("CallStates", func(t *testing.T) { RunCallStates(t, func(t *testing.T) CallStore { return open(t) }) })
	t.Run("Instances", func(t *testing.T) { RunInstances(t, func(t *testing.T) InstanceStore { return open(t) }) })
}

// Migrator is a store that migrates its schema and closes.
type Migrator interface {
	Migrate(ctx context.Context) error
	Close() error
}

// Migrated is what a test does with a store it opened: it fails t when
// the store could not be opened (err), closes it when t ends, and
// migrates it.
func Migrated[S Migrator](t testing.TB, s S, err error) S {
	t.Helper()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}
