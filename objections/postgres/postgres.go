package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/tracelog"

	"github.com/verzet/verzet/objections"
)

// DefaultConnectTimeout bounds how long Open and every new connection wait
// for the server when the DSN sets no connect_timeout.
const DefaultConnectTimeout = 5 * time.Second

// Store is the PostgreSQL objections.Store. It is safe for concurrent use,
// also by several processes on one database.
type Store struct {
	pool *pgxpool.Pool
	// checks is a small pool for FactsMany alone, whose sessions plan
	// statements once (plan_cache_mode = force_generic_plan): PostgreSQL
	// would otherwise plan FactsMany's statement anew on every call, since
	// a plan for the exact batch size always looks cheaper than the
	// generic one, and planning costs more than reading a small batch.
	// Other statements keep the default, where a custom plan can matter.
	checks *pgxpool.Pool
	chain  *chainWriter
	once   sync.Once
}

// checkConns is the size of the checks pool: the dial-time check reads a
// few batches at once (objections/httpapi's CheckFlights, default 4).
const checkConns = 8

var _ objections.Store = (*Store)(nil)

// Option changes how Open sets up the pool.
type Option func(*pgxpool.Config)

// WithQueryLog sends pgx's trace (queries, batches, connects, errors) at
// level and above to log. Query arguments are removed before log sees
// them: they hold phone numbers, which are never logged. cmd bridges log to
// zap.
func WithQueryLog(log tracelog.Logger, level tracelog.LogLevel) Option {
	return func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = &tracelog.TraceLog{Logger: withoutArgs{log}, LogLevel: level}
	}
}

// WithMaxConns sets the pool size; without it the DSN's pool_max_conns or
// pgxpool's default applies.
func WithMaxConns(n int32) Option {
	return func(c *pgxpool.Config) {
		if n > 0 {
			c.MaxConns = n
		}
	}
}

// WithConnectTimeout bounds each connection attempt, and Open's check,
// overriding the DSN's connect_timeout and DefaultConnectTimeout.
func WithConnectTimeout(d time.Duration) Option {
	return func(c *pgxpool.Config) {
		if d > 0 {
			c.ConnConfig.ConnectTimeout = d
		}
	}
}

// withoutArgs drops query arguments from trace data.
type withoutArgs struct{ log tracelog.Logger }

func (w withoutArgs) Log(ctx context.Context, level tracelog.LogLevel, msg string, data map[string]any) {
	delete(data, "args")
	w.log.Log(ctx, level, msg, data)
}

// Open connects to the database at dsn and checks that it answers. Each
// connection attempt is bounded by the DSN's connect_timeout, or
// DefaultConnectTimeout. EINVALID for a malformed DSN, EUNAVAILABLE when
// the server cannot be reached. Open does not migrate: call Migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password redacted; keep it out anyway.
		return nil, objections.Errorf(objections.EINVALID, "parse PostgreSQL DSN: malformed connection string")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	for _, o := range opts {
		o(cfg)
	}
	cfg.AfterConnect = afterConnect
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate("open PostgreSQL pool", err)
	}
	s := newStore(pool)
	ccfg := cfg.Copy()
	ccfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	ccfg.MaxConns, ccfg.MinConns = min(cfg.MaxConns, checkConns), 0
	if s.checks, err = pgxpool.NewWithConfig(ctx, ccfg); err != nil {
		s.Close()
		return nil, translate("open PostgreSQL pool", err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newStore starts the chain writer over pool.
func newStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, chain: newChainWriter(pool)}
}

// afterConnect makes every timestamptz scan as UTC, whatever the session
// time zone or time.Local.
func afterConnect(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{
		Name: "timestamptz", OID: pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
	})
	return nil
}

// Pool returns the underlying pool, for health checks and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the server answers; EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return objections.Unavailable("ping PostgreSQL", flatten(rootCause(err)))
	}
	return nil
}

// Close stops taking writes, lets the batch being committed finish, and
// closes the pool, waiting for connections in use to be returned. Writes
// after Close are EUNAVAILABLE.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.chain.close()
		s.pool.Close()
		if s.checks != nil {
			s.checks.Close()
		}
	})
	return nil
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

// utc returns t in UTC truncated to microseconds, what timestamptz keeps.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
