package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/tracelog"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/objections/storetest"
)

// openStore returns a store on a fresh, migrated database of t's own.
func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := open(pgtest.DSN(t))
	return storetest.Migrated(t, s, err)
}

// open opens a store (a pool of its own: another process, as far as the
// database can tell) on dsn. The connect timeout is generous: `go test
// ./...` runs many packages at once on two cores.
func open(dsn string) (*Store, error) {
	return Open(context.Background(), dsn, WithConnectTimeout(30*time.Second))
}

// openDSN opens a store on dsn without migrating it, closed when t ends.
func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := open(dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newRegister(s objections.Store) *objections.Register {
	return objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)
}

// Sixteen writers record the same number at once, as sixteen dialer
// processes might: one objection, one event, an intact chain.
func TestConcurrentRecordSameNumber(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	// Two pools, as two processes would have.
	other := openDSN(t, dsnOf(s))
	regs := []*objections.Register{newRegister(s), newRegister(other)}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		ids     = map[string]bool{}
	)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, c, err := regs[i%2].Record(ctx, objections.Objection{Org: "acme", RawNumber: "06 1234 5678", Source: objections.SourceAgent})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[o.ID] = true
			if c {
				created++
			}
		}()
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 {
		t.Fatalf("created %d, distinct ids %d; want exactly one objection", created, len(ids))
	}
	n, err := objections.VerifyChain(ctx, s)
	if err != nil || n != 1 {
		t.Fatalf("verify chain = %d, %v; want 1 event", n, err)
	}
}

// Writers on different numbers from two pools interleave; the chain stays
// gapless and every link holds.
func TestConcurrentChain(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	other := openDSN(t, dsnOf(s))
	regs := []*objections.Register{newRegister(s), newRegister(other)}
	const writers, each = 16, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := regs[(w+i)%2]
				num := fmt.Sprintf("+31612%06d", w*each+i)
				o, _, err := r.Record(ctx, objections.Objection{Org: fmt.Sprintf("org%d", w%3), RawNumber: num, Source: objections.SourceAPI})
				if err != nil {
					t.Errorf("record: %v", err)
					return
				}
				if i%3 == 0 {
					if _, err := r.Void(ctx, o.ID, "admin", "test"); err != nil {
						t.Errorf("void: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	n, err := objections.VerifyChain(ctx, s)
	want := int64(writers * (each + (each+2)/3))
	if err != nil || n != want {
		t.Fatalf("verify chain = %d, %v; want %d events", n, err, want)
	}
}

// The schema, not only Go, refuses a second active objection for an org and
// number, a second void, and edits of evidence.
func TestSchemaEnforces(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	r := newRegister(s)
	o, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "final", Outcome: objections.OutcomeNoInput}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.StartOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "open"}); err != nil {
		t.Fatal(err)
	}
	insertSecond := `INSERT INTO objections (id, org, number, raw_number, received_at, source, status)
		VALUES ('01SECOND', 'acme', '+31612345678', '0612345678', now(), 'agent', 'active')`
	tests := []struct {
		name string
		sql  string
		want string // SQLSTATE
	}{
		{"second active row", `INSERT INTO active_objections (org, number, objection_id) VALUES ('acme', '+31612345678', '01SECOND')`, "23505"},
		{"update objection", `UPDATE objections SET number = '+31687654321'`, "23000"},
		{"delete objection", `DELETE FROM objections`, "23000"},
		{"truncate objections", `TRUNCATE objections CASCADE`, "23000"},
		{"update event", `UPDATE events SET payload = '{}'`, "23000"},
		{"delete event", `DELETE FROM events`, "23000"},
		{"active without number", `INSERT INTO objections (id, org, number, raw_number, received_at, source, status)
			VALUES ('01EMPTY', 'acme', '', '', now(), 'agent', 'active')`, "23514"},
		{"unknown org", `INSERT INTO objections (id, org, number, raw_number, received_at, source, status)
			VALUES ('01ORG', 'nope', '+31612345679', 'x', now(), 'agent', 'active')`, "23503"},
		{"second void", `INSERT INTO objection_voids (objection_id, actor, reason, at) VALUES ('` + o.ID + `', 'a', 'b', now()),
			('` + o.ID + `', 'a', 'c', now())`, "23505"},
		{"second head", `INSERT INTO event_head (id, seq, hash) VALUES (true, 0, '')`, "23505"},
		{"update final offer", `UPDATE offers SET played_ms = 1 WHERE call_ref = 'final'`, "23000"},
		{"delete offer", `DELETE FROM offers WHERE call_ref = 'open'`, "23000"},
		{"offer in progress renamed", `UPDATE offers SET id = '01RENAMED' WHERE call_ref = 'open'`, "23000"},
		{"second offer of a call", `INSERT INTO offers (id, org, provider, call_ref, announced, played_ms, barge_in, keys, outcome, started_at, ended_at)
			VALUES ('01OFFER', 'acme', 'ari', 'final', false, 0, false, '[]', 'no_input', now(), now())`, "23505"},
		{"duplicate call ref", `INSERT INTO objections (id, org, number, raw_number, received_at, source, status, provider, call_ref)
			VALUES ('01A', 'acme', '', '', now(), 'agent', 'pending_number', 'ari', 'c1'),
			       ('01B', 'acme', '', '', now(), 'agent', 'pending_number', 'ari', 'c1')`, "23505"},
		{"duplicate idempotency key", `INSERT INTO objections (id, org, number, raw_number, received_at, source, status, idempotency_key, person_id)
			VALUES ('01C', 'acme', '', '', now(), 'agent', 'pending_number', 'k', 'p'),
			       ('01D', 'acme', '', '', now(), 'agent', 'pending_number', 'k', 'p')`, "23505"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := s.Pool().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, insertSecond); err != nil {
				t.Fatalf("insert second objection row: %v", err)
			}
			_, err = tx.Exec(ctx, tc.sql)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != tc.want {
				t.Fatalf("err = %v; want SQLSTATE %s", err, tc.want)
			}
		})
	}
}

// A second store (another process) sees a recorded objection at once.
func TestSecondProcessSees(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	other := openDSN(t, dsnOf(s))
	a, b := newRegister(s), newRegister(other)
	if d, err := b.Decide(ctx, "acme", "0612345678", "", time.Time{}); err != nil || d.Objection != nil {
		t.Fatalf("before: %+v, %v", d, err)
	}
	o, _, err := a.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRARI, Provider: "ari", CallRef: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Decide(ctx, "acme", "+31612345678", "", time.Time{})
	if err != nil || d.Callable || d.Objection == nil || d.Objection.ID != o.ID {
		t.Fatalf("second process decision = %+v, %v", d, err)
	}
	// And the repeat from the other process is recognised.
	again, created, err := b.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRARI, Provider: "ari", CallRef: "c1"})
	if err != nil || created || again.ID != o.ID {
		t.Fatalf("repeat from second process = %+v created %v, %v", again, created, err)
	}
}

// Each event's payload is the record as stored, byte for byte.
func TestEventPayload(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	r := newRegister(s)
	o, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent, Note: "<&> ü"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Void(ctx, o.ID, "admin", "wrong number")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.Events(ctx, 0, 10)
	if err != nil || len(ev) != 2 {
		t.Fatalf("events = %+v, %v", ev, err)
	}
	want0, _ := json.Marshal(o)
	want1, _ := json.Marshal(*v.Void)
	if string(ev[0].Payload) != string(want0) || string(ev[1].Payload) != string(want1) {
		t.Fatalf("payloads:\n%s\n%s\nwant\n%s\n%s", ev[0].Payload, ev[1].Payload, want0, want1)
	}
	if !ev[0].At.Equal(o.ReceivedAt) || ev[0].At.Location() != time.UTC || ev[0].Org != "acme" {
		t.Fatalf("event 0 = %+v", ev[0])
	}
}

func TestRelationUnknownOrg(t *testing.T) {
	s := openStore(t)
	_, err := newRegister(s).PutRelation(context.Background(), objections.Relation{
		Org: "nope", Number: "0612345678", Kind: objections.RelationPurchase, Peildatum: time.Now()})
	var e *objections.Error
	if !errors.As(err, &e) || e.Code != objections.ENOTFOUND || e.Field != "org" {
		t.Fatalf("err = %#v; want ENOTFOUND on org", err)
	}
}

// Times come back in UTC whatever the session time zone.
func TestTimesUTC(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	tokyo := openDSN(t, dsnOf(s)+" timezone=Asia/Tokyo")
	o, _, err := newRegister(s).Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tokyo.Objection(ctx, o.ID)
	if err != nil || got.ReceivedAt.Location() != time.UTC || !got.ReceivedAt.Equal(o.ReceivedAt) {
		t.Fatalf("objection = %+v, %v", got, err)
	}
}

// Open on a server that is not there fails fast with EUNAVAILABLE, and so
// does Ping on a store whose server went away.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	// A listener that accepts and never answers: only the connect timeout
	// ends the wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	silent := ln.Addr().(*net.TCPAddr)

	tests := []struct {
		name string
		dsn  string
	}{
		{"no socket", "host=" + t.TempDir() + " port=5432 user=postgres dbname=x sslmode=disable"},
		{"refused", "host=127.0.0.1 port=1 user=postgres dbname=x sslmode=disable"},
		{"silent", fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=x sslmode=disable connect_timeout=1", silent.Port)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s, err := Open(ctx, tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("open succeeded")
			}
			if objections.ErrorCode(err) != objections.EUNAVAILABLE || time.Since(start) > 10*time.Second {
				t.Fatalf("open err = %v after %v; want unavailable within 10s", err, time.Since(start))
			}
			var pe *pgconn.PgError
			var ce *pgconn.ConnectError
			if errors.As(err, &pe) || errors.As(err, &ce) {
				t.Fatalf("a pgconn type escaped: %#v", err)
			}

			// A pool that never connected stands for a server that went away.
			cfg, err := pgxpool.ParseConfig(tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ConnConfig.ConnectTimeout = time.Second
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			dead := newStore(pool)
			defer dead.Close()
			start = time.Now()
			if err := dead.Ping(ctx); objections.ErrorCode(err) != objections.EUNAVAILABLE || time.Since(start) > 10*time.Second {
				t.Fatalf("ping err = %v after %v", err, time.Since(start))
			}
			if _, _, err := newRegister(dead).Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent}); objections.ErrorCode(err) != objections.EUNAVAILABLE {
				t.Fatalf("record err = %v; want unavailable", err)
			}
			if _, err := dead.Facts(ctx, "acme", "+31612345678", ""); objections.ErrorCode(err) != objections.EUNAVAILABLE {
				t.Fatalf("facts err = %v; want unavailable", err)
			}
		})
	}
}

// dsnOf returns the DSN s was opened with.
func dsnOf(s *Store) string { return s.pool.Config().ConnString() }

// The query log never sees query arguments: they hold phone numbers.
func TestQueryLogWithoutArgs(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var (
		mu   sync.Mutex
		logs []string
	)
	log := tracelog.LoggerFunc(func(_ context.Context, _ tracelog.LogLevel, msg string, data map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprint(msg, data))
	})
	s, err := Open(ctx, dsn, WithQueryLog(log, tracelog.LogLevelTrace), WithConnectTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r := newRegister(s)
	if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Decide(ctx, "acme", "0612345678", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) == 0 {
		t.Fatal("nothing logged")
	}
	for _, l := range logs {
		if strings.Contains(l, "612345678") || strings.Contains(l, "args:") {
			t.Fatalf("logged arguments: %s", l)
		}
	}
}
