package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// benchParallelism sets the number of concurrent callers: SetParallelism(8) on
// the 2-core machines we measure on gives 16 goroutines, as many as the
// dialer lines one instance serves.
const benchParallelism = 8

// BenchmarkRecord measures durable RecordObjection through the Register:
// each op is one committed transaction (fsync on), all writers contending
// for the chain head. Target: ≥ 1,000 records/s with 16 writers.
func BenchmarkRecord(b *testing.B) {
	s := openStore(b)
	r := newRegister(s)
	var seq atomic.Int64
	b.Run("writers=16", func(b *testing.B) {
		b.SetParallelism(benchParallelism)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				n := seq.Add(1)
				_, created, err := r.Record(ctx, objections.Objection{
					Org: fmt.Sprintf("org%d", n%10), RawNumber: fmt.Sprintf("+3161%07d", n%10_000_000),
					Source: objections.SourceIVRARI, Provider: "ari", CallRef: fmt.Sprintf("bench-%d", n),
				})
				if err != nil || !created {
					b.Errorf("record: created %v, %v", created, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	if _, err := objections.VerifyChain(context.Background(), s); err != nil {
		b.Fatal(err)
	}
}

// Sizes of the Decide fixture.
const (
	benchObjections = 10_000
	benchRelations  = 10_000
	benchConsents   = 5_000
	benchOrgs       = 10
)

// BenchmarkDecide measures Register.Decide (normalise, one Facts round
// trip, decide) with 16 concurrent callers on a database holding 10,000
// objections, 10,000 relations and 5,000 consents. Target: ≥ 5,000
// decisions/s.
func BenchmarkDecide(b *testing.B) {
	s := openStore(b)
	r := newRegister(s)
	fillDecideFixture(b, r)
	b.Run("callers=16", func(b *testing.B) {
		b.SetParallelism(benchParallelism)
		b.ReportAllocs()
		b.ResetTimer()
		var blocked atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			rnd := rand.New(rand.NewPCG(rand.Uint64(), 0))
			for pb.Next() {
				// Numbers 0–19,999: the first half carry objections, the
				// second half relations, a quarter consents; some callers
				// name the person.
				i := rnd.IntN(2 * benchObjections)
				person := ""
				if i%4 == 0 {
					person = benchPerson(i)
				}
				d, err := r.Decide(ctx, fmt.Sprintf("org%d", i%benchOrgs), fmt.Sprintf("+31612%06d", i), person, time.Time{})
				if err != nil {
					b.Errorf("decide: %v", err)
					return
				}
				if d.Objection != nil {
					blocked.Add(1)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		if b.N > 100 && blocked.Load() == 0 {
			b.Errorf("no decision met an objection: the fixture is wrong")
		}
	})
}

// benchPerson is the person id of fixture record i: half of the records
// name none, as in real imports, so that a query that scans every record
// without a person would show.
func benchPerson(i int) string {
	if i%2 == 1 {
		return ""
	}
	return fmt.Sprintf("p%d", i)
}

// fillDecideFixture records the objections, relations and consents of
// BenchmarkDecide through the register, 16 writers at a time.
func fillDecideFixture(b *testing.B, r *objections.Register) {
	b.Helper()
	ctx := context.Background()
	for o := range benchOrgs {
		if _, err := r.SetOrg(ctx, objections.Org{ID: fmt.Sprintf("org%d", o), Name: "Org", Sector: objections.SectorCharity}); err != nil {
			b.Fatal(err)
		}
	}
	peil := time.Now().AddDate(-1, 0, 0)
	given := time.Now().AddDate(0, -6, 0)
	jobs := make(chan func() error)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range 16 {
		wg.Go(func() {
			for job := range jobs {
				if err := job(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range benchObjections {
		jobs <- func() error {
			_, _, err := r.Record(ctx, objections.Objection{Org: fmt.Sprintf("org%d", i%benchOrgs),
				RawNumber: fmt.Sprintf("+31612%06d", i), PersonID: benchPerson(i), Source: objections.SourceImport})
			return err
		}
	}
	for i := range benchRelations {
		n := benchObjections/2 + i
		jobs <- func() error {
			_, err := r.PutRelation(ctx, objections.Relation{Org: fmt.Sprintf("org%d", n%benchOrgs),
				Number: fmt.Sprintf("+31612%06d", n), PersonID: benchPerson(n), Kind: objections.RelationDonation, Peildatum: peil})
			return err
		}
	}
	for i := range benchConsents {
		n := benchObjections + 2*i
		jobs <- func() error {
			_, err := r.PutConsent(ctx, objections.Consent{Org: fmt.Sprintf("org%d", n%benchOrgs),
				Number: fmt.Sprintf("+31612%06d", n), Channel: objections.ChannelPhone, GivenAt: given})
			return err
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("fill fixture: %v", firstErr)
	}
}
