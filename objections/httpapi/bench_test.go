package httpapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
)

// The benchmarks of the dial-time API on PostgreSQL, each beside a
// baseline in the same run: the same lookups as plain SQL through a pgx
// pool, without verzet's code and without HTTP.
//
//	source scripts/pg-throwaway.sh && pg_throwaway_start
//	go test -run '^$' -bench Callability -benchtime 40000x ./objections/httpapi/
//	go test -run '^$' -bench Scrub -benchtime 1x ./objections/httpapi/
//
// The load driver of BenchmarkCallability is Go's HTTP client in the same
// process, which costs about as much CPU as the server on a two-core
// machine; an external driver (wrk against verzet serve) gives the
// server's own figure.

// Fixture sizes, as in objections/postgres BenchmarkDecide.
const (
	benchOrgs       = 10
	benchObjections = 10_000
	benchRelations  = 10_000
	benchConsents   = 5_000
)

// benchNumber is fixture number i: 0–9,999 carry objections, 5,000–14,999
// relations, every other one of 10,000–19,999 a consent.
func benchNumber(i int) string { return fmt.Sprintf("+31612%06d", i) }

// benchStore opens a PostgreSQL store on a fresh database with the fixture.
func benchStore(b *testing.B) (*postgres.Store, string) {
	b.Helper()
	dsn := pgtest.DSN(b)
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn, postgres.WithConnectTimeout(30*time.Second), postgres.WithMaxConns(32))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	r := objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)
	for o := range benchOrgs {
		if _, err := r.SetOrg(ctx, objections.Org{ID: fmt.Sprintf("org%d", o), Name: "Org", Sector: objections.SectorCharity}); err != nil {
			b.Fatal(err)
		}
	}
	peil, given := time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, -6, 0)
	work := make(chan func() error)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 16 {
		wg.Go(func() {
			for job := range work {
				if err := job(); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for i := range benchObjections {
		work <- func() error {
			_, _, err := r.Record(ctx, objections.Objection{Org: fmt.Sprintf("org%d", i%benchOrgs), RawNumber: benchNumber(i), Source: objections.SourceImport})
			return err
		}
	}
	for n := 5000; n < 5000+benchRelations; n++ {
		work <- func() error {
			_, err := r.PutRelation(ctx, objections.Relation{Org: fmt.Sprintf("org%d", n%benchOrgs), Number: benchNumber(n), Kind: objections.RelationDonation, Peildatum: peil})
			return err
		}
	}
	for i := range benchConsents {
		n := 10000 + 2*i
		work <- func() error {
			_, err := r.PutConsent(ctx, objections.Consent{Org: fmt.Sprintf("org%d", n%benchOrgs), Number: benchNumber(n), GivenAt: given})
			return err
		}
	}
	close(work)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return s, dsn
}

// benchServer serves the API on a loopback TCP port, as in production
// (no rate limit: one dialer token carries the whole load).
func benchServer(b *testing.B, s *postgres.Store, cfg Config) (*httptest.Server, string) {
	b.Helper()
	cfg.RateLimit = -1
	reg := objections.NewRegister(s, objections.Numbers{Region: "NL"}, nil)
	srv := New(cfg, reg, Stores{Tokens: s, Audit: s, Decisions: s, FactsBatch: s, FactsMany: s}, zap.NewNop())
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	tok, bearer, err := access.NewToken("bench-"+objections.NewID(time.Now())[20:], access.RoleDialer, nil, "bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateToken(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	return ts, bearer
}

// load runs op n times from conc goroutines and returns ops/s and the
// latency percentiles.
func load(b *testing.B, conc, n int, op func(rnd *rand.Rand) error) (rate float64, p50, p99 time.Duration) {
	b.Helper()
	var next atomic.Int64
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 99))
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if err := op(rnd); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return 0, 0, 0
	}
	return float64(len(all)) / el.Seconds(), all[len(all)/2], all[len(all)*99/100]
}

// benchConc is the number of concurrent dialer connections: 32 keep-alive
// connections (the Go client and server, and PostgreSQL, share the
// machine's two cores).
const benchConc = 32

// BenchmarkCallability: callability checks over HTTP with keep-alive on
// PostgreSQL (target ≥ 10,000/s), beside the same four lookups as plain
// SQL through pgx (the ceiling the database allows) and the check without
// HTTP (verzet's decision code alone).
func BenchmarkCallability(b *testing.B) {
	s, dsn := benchStore(b)
	ts, bearer := benchServer(b, s, Config{})
	tr := &http.Transport{MaxIdleConnsPerHost: benchConc, MaxConnsPerHost: benchConc}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	pick := func(rnd *rand.Rand) (string, string) {
		i := rnd.IntN(20000)
		return fmt.Sprintf("org%d", i%benchOrgs), benchNumber(i)
	}

	b.Run("http", func(b *testing.B) {
		var blocked atomic.Int64
		rate, p50, p99 := load(b, benchConc, b.N, func(rnd *rand.Rand) error {
			org, n := pick(rnd)
			req, _ := http.NewRequest("GET", ts.URL+"/v1/callability/"+n+"?org="+org, nil)
			req.Header.Set("Authorization", "Bearer "+bearer)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				return fmt.Errorf("check: %d %v %s", resp.StatusCode, err, body)
			}
			if strings.Contains(string(body), `"reasons":["objection"]`) {
				blocked.Add(1)
			}
			return nil
		})
		b.ReportMetric(rate, "checks/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		if b.N >= 1000 && blocked.Load() == 0 {
			b.Error("no check met an objection: the fixture is wrong")
		}
	})

	// The check as the server makes it (normalise, batched read, decide),
	// without HTTP.
	b.Run("no-http", func(b *testing.B) {
		nums := objections.Numbers{Region: "NL"}
		var cfg Config
		cfg.defaults()
		c := newCoalescer(s.FactsMany, cfg.CheckFlights, cfg.CheckBatch, cfg.CheckTimeout, nil)
		rate, p50, p99 := load(b, benchConc, b.N, func(rnd *rand.Rand) error {
			org, n := pick(rnd)
			e164, err := nums.NormalizeFast(n)
			if err != nil {
				return err
			}
			f, err := c.facts(context.Background(), objections.FactsQuery{Org: org, Number: e164})
			if err != nil {
				return err
			}
			_ = decideNow(f, e164, "", time.Now())
			return nil
		})
		b.ReportMetric(rate, "checks/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	})

	b.Run("baseline-pgx", func(b *testing.B) {
		pool := benchPool(b, dsn)
		rate, p50, p99 := load(b, benchConc, b.N, func(rnd *rand.Rand) error {
			org, n := pick(rnd)
			return plainLookups(context.Background(), pool, org, []string{n})
		})
		b.ReportMetric(rate, "checks/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	})

	// The same lookups as one statement (what FactsOne sends), read and
	// thrown away: the ceiling for the check as it is now made.
	b.Run("baseline-pgx-one-statement", func(b *testing.B) {
		pool := benchPool(b, dsn)
		rate, p50, p99 := load(b, benchConc, b.N, func(rnd *rand.Rand) error {
			org, n := pick(rnd)
			var g, o, c, r []byte
			return pool.QueryRow(context.Background(), oneStatementLookups, org, n).Scan(&g, &o, &c, &r)
		})
		b.ReportMetric(rate, "checks/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	})
}

func benchPool(b *testing.B, dsn string) *pgxpool.Pool {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// plainLookups runs the four lookups of a decision for numbers as plain
// SQL in one pipelined round trip, reading every row: what PostgreSQL
// must do for the answer, without normalising, deciding or HTTP.
func plainLookups(ctx context.Context, pool *pgxpool.Pool, org string, numbers []string) error {
	bt := &pgx.Batch{}
	bt.Queue(`SELECT id, name, sector, relation_term_months, language FROM orgs WHERE id = $1`, org)
	bt.Queue(`SELECT o.id, o.number, o.person_id, o.received_at, o.source, v.at FROM objections o
		LEFT JOIN objection_voids v ON v.objection_id = o.id WHERE o.org = $1 AND o.number = ANY($2)`, org, numbers)
	bt.Queue(`SELECT id, number, person_id, channel, given_at, withdrawn_at FROM consents WHERE org = $1 AND number = ANY($2)`, org, numbers)
	bt.Queue(`SELECT id, number, person_id, kind, peildatum FROM relations WHERE org = $1 AND number = ANY($2)`, org, numbers)
	br := pool.SendBatch(ctx, bt)
	for range 4 {
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return err
		}
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				rows.Close()
				br.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// oneStatementLookups is the four lookups as one statement, as
// objections/postgres FactsOne makes them.
const oneStatementLookups = `SELECT
	(SELECT json_build_array(id, name, sector, relation_term_months, term_justification, language, auto_created, created_at, updated_at, ivr)
		FROM orgs WHERE id = $1),
	(SELECT json_agg(json_build_array(o.id, o.number, o.person_id, o.received_at, o.source, o.status, v.actor, v.reason, v.at) ORDER BY o.id)
		FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id WHERE o.org = $1 AND o.number = $2),
	(SELECT json_agg(json_build_array(id, number, person_id, channel, given_at, withdrawn_at) ORDER BY given_at, id)
		FROM consents WHERE org = $1 AND number = $2),
	(SELECT json_agg(json_build_array(id, number, person_id, kind, peildatum) ORDER BY id)
		FROM relations WHERE org = $1 AND number = $2)`

// scrubSize is the length of the scrub benchmark's list: a million, or
// VERZET_BENCH_SCRUB (VERZET_BENCH_SCRUB_BATCH and _WORKERS override the
// scrub's batch size and workers) while trying things out.
func scrubSize() int {
	if v := os.Getenv("VERZET_BENCH_SCRUB"); v != "" {
		n, _ := strconv.Atoi(v)
		return n
	}
	return 1_000_000
}

// numberList streams "+31612xxxxxx\n" lines for i in [0, n): the body is
// generated as it is sent, so the client holds none of it.
type numberList struct {
	i, n int
	buf  []byte
}

func (l *numberList) Read(p []byte) (int, error) {
	for len(l.buf) < len(p) && l.i < l.n {
		l.buf = append(l.buf, "+316"...)
		l.buf = append(l.buf, fmt.Sprintf("%08d", 12000000+l.i%1000000)...)
		l.buf = append(l.buf, '\n')
		l.i++
	}
	if len(l.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

// peakHeap samples HeapInuse every 10 ms until stop is closed.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// vmHWM is the process's peak resident set, from /proc (0 elsewhere).
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkScrub: one list of a million numbers (target < 10 s, flat
// memory) streamed through POST /v1/scrub on PostgreSQL, CSV in and out,
// beside the same lookups as plain SQL (pgx, 1,000 numbers per round
// trip, the same concurrency) in the same run.
func BenchmarkScrub(b *testing.B) {
	s, dsn := benchStore(b)
	var cfg Config
	cfg.ScrubBatch, _ = strconv.Atoi(os.Getenv("VERZET_BENCH_SCRUB_BATCH"))
	cfg.ScrubWorkers, _ = strconv.Atoi(os.Getenv("VERZET_BENCH_SCRUB_WORKERS"))
	ts, bearer := benchServer(b, s, cfg)
	n := scrubSize()

	b.Run("http", func(b *testing.B) {
		for range b.N {
			runtime.GC()
			stop := make(chan struct{})
			peak := peakHeap(stop)
			start := time.Now()
			req, _ := http.NewRequest("POST", ts.URL+"/v1/scrub?org=org1", &numberList{n: n})
			req.Header.Set("Authorization", "Bearer "+bearer)
			req.Header.Set("Content-Type", "text/csv")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			rows, blocked := 0, 0
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				rows++
				if strings.HasSuffix(sc.Text(), ",objection") {
					blocked++
				}
			}
			resp.Body.Close()
			if err := sc.Err(); err != nil || rows != n+1 || blocked == 0 {
				b.Fatalf("scrub: %d rows (%d blocked), %v", rows, blocked, err)
			}
			el := time.Since(start)
			close(stop)
			b.ReportMetric(el.Seconds(), "s/list")
			b.ReportMetric(float64(n)/el.Seconds(), "numbers/s")
			b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(vmHWM(), "peak-rss-MiB")
		}
	})

	b.Run("baseline-pgx", func(b *testing.B) {
		pool := benchPool(b, dsn)
		for range b.N {
			start := time.Now()
			const batch = 1000
			work := make(chan []string, 4)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for nums := range work {
						if err := plainLookups(context.Background(), pool, "org1", nums); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for i := 0; i < n; i += batch {
				nums := make([]string, 0, batch)
				for j := i; j < min(n, i+batch); j++ {
					nums = append(nums, fmt.Sprintf("+316%08d", 12000000+j%1000000))
				}
				work <- nums
			}
			close(work)
			wg.Wait()
			el := time.Since(start)
			b.ReportMetric(el.Seconds(), "s/list")
			b.ReportMetric(float64(n)/el.Seconds(), "numbers/s")
		}
	})
}
