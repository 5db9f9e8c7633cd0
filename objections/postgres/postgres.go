package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/tracelog"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
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

// The capabilities declared in the packages a store may import. Those its
// users declare (httpapi.Outbox, review.Records, twilio.Calls, …) are
// checked where cmd/verzet wires them (stores.go).
var (
	_ objections.Store = (*Store)(nil)
	_ access.Store     = (*Store)(nil)
)

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

// exec runs one statement on the pool.
func (s *Store) exec(ctx context.Context, doing, sql string, args ...any) error {
	_, err := s.pool.Exec(ctx, sql, args...)
	return translate(doing, err)
}

// execCount runs one statement on the pool and returns how many rows it
// changed.
func (s *Store) execCount(ctx context.Context, doing, sql string, args ...any) (int64, error) {
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, translate(doing, err)
	}
	return tag.RowsAffected(), nil
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
