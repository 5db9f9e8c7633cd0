package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verzet/verzet/objections"
)

// Writes that append to the event chain (objections, voids, offers) go
// through one writer goroutine per Store, which commits them in batches.
//
// Why: every such transaction holds the chain head's row lock until its
// commit is on disk, so chained commits cannot overlap and PostgreSQL's group
// commit cannot help. At one fsync per write (about 2 ms on our machines)
// that caps a whole installation near 500 writes/s. The writer instead runs
// every write that arrived while the previous batch was committing in one
// transaction: one lock, one fsync for all of them. Each write is still
// checked and chained one after the other, in order, inside that
// transaction, and nobody is answered before the commit is durable.
//
// A write whose own check fails (a repeat, not found, voided already) answers
// with its outcome and leaves the transaction usable. A database error in
// one write aborts the shared transaction; the writer then runs every write
// of the batch alone, so that one bad write fails only itself.

// maxChainBatch bounds the writes committed together, and so how long the
// head lock is held at once.
const maxChainBatch = 32

// chainTimeout bounds one batch transaction when its callers set no
// earlier deadline.
const chainTimeout = 30 * time.Second

// chainFunc does one write inside the batch transaction, after the head is
// locked. It gets the head and returns the head after its event (unchanged
// when it appended none). A *objections.Error is the write's answer and
// must leave tx usable; any other error is a database error that aborts tx.
// It may run twice (see chainWriter.run), so it sets its results on every
// path that returns nil.
type chainFunc func(ctx context.Context, tx pgx.Tx, h head) (head, error)

// chainOp is one write that appends to the chain.
type chainOp struct {
	ctx  context.Context
	run  chainFunc
	done chan error // size 1: the writer never waits for a caller that gave up
}

// recorded is the result of a write that may be a repeat.
type recorded[T any] struct {
	rec     T
	created bool
}

// chainWriter owns the writer goroutine.
type chainWriter struct {
	pool *pgxpool.Pool
	ops  chan *chainOp // unbuffered: a write is either taken by the writer or refused
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func newChainWriter(pool *pgxpool.Pool) *chainWriter {
	w := &chainWriter{pool: pool, ops: make(chan *chainOp), stop: make(chan struct{})}
	w.wg.Go(w.loop)
	return w
}

// close stops taking writes, lets the batch in flight commit and waits for
// the writer to end.
func (w *chainWriter) close() {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
}

// do runs run in the next batch and returns its answer. When ctx ends first
// do returns at once; a write the writer had already taken may still commit,
// as with any write whose answer is lost, and its repeat is recognised.
func (w *chainWriter) do(ctx context.Context, run chainFunc) error {
	op := &chainOp{ctx: ctx, run: run, done: make(chan error, 1)}
	select {
	case w.ops <- op:
	case <-w.stop:
		return objections.Unavailable("write", errors.New("store closed"))
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *chainWriter) loop() {
	for {
		var batch []*chainOp
		select {
		case op := <-w.ops:
			batch = append(batch, op)
		case <-w.stop:
			return
		}
	collect:
		for len(batch) < maxChainBatch {
			select {
			case op := <-w.ops:
				batch = append(batch, op)
			default:
				break collect
			}
		}
		w.run(batch)
	}
}

// run commits one batch and answers each of its writes.
func (w *chainWriter) run(batch []*chainOp) {
	live := make([]*chainOp, 0, len(batch))
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.done <- err // the caller gave up before its write began
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	answers := make([]error, len(live))
	err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		var h head
		if err := tx.QueryRow(ctx, lockHeadSQL).Scan(&h.seq, &h.hash); err != nil {
			return err
		}
		for i, op := range live {
			next, err := op.run(ctx, tx, h)
			var answer *objections.Error
			if err != nil && !errors.As(err, &answer) {
				return err
			}
			answers[i] = err
			if err == nil {
				h = next
			}
		}
		return nil
	})
	switch {
	case err == nil:
		for i, op := range live {
			op.done <- answers[i]
		}
	case len(live) == 1 || objections.ErrorCode(translate("", err)) == objections.EUNAVAILABLE:
		// Alone, or the database is away: running the writes one by one
		// would fail the same way, each after its own timeout.
		for _, op := range live {
			op.done <- err
		}
	default:
		for _, op := range live {
			w.run([]*chainOp{op})
		}
	}
}

// batchContext bounds a batch by chainTimeout or, when every caller has an
// earlier deadline, by the latest of those. The batch does not end when one
// caller cancels: it carries the others' writes.
func batchContext(ops []*chainOp) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(chainTimeout)
	latest := time.Time{}
	for _, op := range ops {
		d, ok := op.ctx.Deadline()
		if !ok {
			latest = deadline
			break
		}
		if d.After(latest) {
			latest = d
		}
	}
	if latest.After(deadline) {
		latest = deadline
	}
	return context.WithDeadline(context.Background(), latest)
}

// head is the tip of the event chain, read under its row lock.
type head struct {
	seq  int64
	hash string
}

// lockHeadSQL takes the chain head; the lock is held until the transaction
// ends, so that events chain in commit order. Every statement that checks
// for a repeat must come after it in its own statement: in READ COMMITTED a
// statement sees what was committed before it started, so a check in the
// same statement as the lock could miss a row committed while it waited.
const lockHeadSQL = `SELECT seq, hash FROM event_head WHERE id FOR UPDATE`

// prev returns the event before the next one, nil for the first.
func (h head) prev() *objections.Event {
	if h.seq == 0 {
		return nil
	}
	return &objections.Event{Seq: h.seq, Hash: h.hash}
}

// queueAppend adds the event insert and the head move to b.
func queueAppend(b *pgx.Batch, e objections.Event) {
	b.Queue(`INSERT INTO events (seq, kind, org, subject_id, at, payload, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.Seq, string(e.Kind), e.Org, e.SubjectID, e.At, []byte(e.Payload), e.PrevHash, e.Hash)
	b.Queue(`UPDATE event_head SET seq = $1, hash = $2 WHERE id AND seq = $3`, e.Seq, e.Hash, e.Seq-1)
}

// queueEnsureOrg adds the insert of DefaultOrg for id, when id is unknown.
func queueEnsureOrg(b *pgx.Batch, id string, now time.Time) {
	o := objections.DefaultOrg(id, now)
	b.Queue(`INSERT INTO orgs (id, name, sector, relation_term_months, term_justification, language, auto_created, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
		o.ID, o.Name, string(o.Sector), o.RelationTermMonths, o.TermJustification, o.Language, o.AutoCreated, o.CreatedAt, o.UpdatedAt)
}

// queueEnsureAgency adds the insert of DefaultAgency for id, when id is
// set and unknown: an agency met during a call before anyone set it up.
func queueEnsureAgency(b *pgx.Batch, id string, now time.Time) {
	if id == "" {
		return
	}
	o := objections.DefaultAgency(id, now)
	b.Queue(`INSERT INTO orgs (id, name, sector, relation_term_months, term_justification, language, auto_created, created_at, updated_at, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
		o.ID, o.Name, string(o.Sector), o.RelationTermMonths, o.TermJustification, o.Language, o.AutoCreated, o.CreatedAt, o.UpdatedAt, string(o.Kind))
}

// agencyUnlisted reports whether agency (when set) is missing from the
// agencies org lists, read in tx.
func agencyUnlisted(ctx context.Context, tx pgx.Tx, org, agency string) (bool, error) {
	if agency == "" {
		return false, nil
	}
	var agencies string
	err := tx.QueryRow(ctx, `SELECT agencies FROM orgs WHERE id = $1`, org).Scan(&agencies)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	o := objections.Org{Agencies: objections.SplitIDs(agencies)}
	return !o.Allows(agency), nil
}

// execBatch sends b in one round trip and checks every result. The head
// move must change exactly one row: anything else means the chain moved
// without this transaction holding the lock, and the transaction must not
// commit.
func execBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	br := tx.SendBatch(ctx, b)
	for range b.QueuedQueries {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return err
		}
		// The only UPDATE in a write batch is the head move.
		if tag.Update() && tag.RowsAffected() != 1 {
			br.Close()
			// A plain error: it must abort the transaction.
			return errors.New("move event head: the head moved while locked")
		}
	}
	return br.Close()
}
