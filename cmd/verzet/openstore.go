package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/sqlite"
)

// storeMode says what opening the store may do.
type storeMode int

const (
	// existingStore refuses a store that does not exist (an SQLite file
	// missing; a PostgreSQL database unreachable or not migrated) and
	// creates nothing, not even the data folder: every command but serve,
	// migrate and init.
	existingStore storeMode = iota + 1
	// createStore creates the store when missing and migrates it: init,
	// migrate, and serve (PostgreSQL unless --no-migrate).
	createStore
	// createStoreNoMigrate is serve --no-migrate: the embedded store is
	// migrated anyway (it must work with one command), PostgreSQL not.
	createStoreNoMigrate
)

// openStore opens the configured store.
func openStore(ctx context.Context, c StoreConfig, mode storeMode) (*stores, error) {
	if c.DatabaseURL != "" {
		return openPostgres(ctx, c, mode)
	}
	if mode == existingStore {
		if err := sqliteExists(c); err != nil {
			return nil, err
		}
	}
	s, err := sqlite.Open(ctx, c.SQLitePath())
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return sqliteStores(s), nil
}

func openPostgres(ctx context.Context, c StoreConfig, mode storeMode) (*stores, error) {
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pg, err := postgres.Open(octx, c.DatabaseURL)
	switch objections.ErrorCode(err) {
	case "":
	case objections.EINVALID:
		return nil, malformedDatabaseURL(c.DatabaseURL)
	default:
		return nil, &objections.Error{Code: objections.EINVALID, Field: "VERZET_DATABASE_URL", Value: maskDSN(c.DatabaseURL),
			Message: fmt.Sprintf("cannot be reached (%s): check that PostgreSQL runs and that the URL is right", errCause(err))}
	}
	switch mode {
	case createStore:
		if err := pg.Migrate(ctx); err != nil {
			pg.Close()
			return nil, err
		}
	case existingStore:
		if err := pgMigrated(ctx, pg, c); err != nil {
			pg.Close()
			return nil, err
		}
	}
	return postgresStores(pg), nil
}

// pgMigrated refuses a database that holds no verzet store, or an older
// schema than this binary writes.
func pgMigrated(ctx context.Context, pg *postgres.Store, c StoreConfig) error {
	v, err := pg.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	want := postgres.LatestSchemaVersion()
	switch {
	case v == 0:
		return objections.Invalid("VERZET_DATABASE_URL", maskDSN(c.DatabaseURL),
			"holds no verzet store (the database is not migrated): run 'verzet migrate' with this URL first, or point VERZET_DATABASE_URL (--database-url) at the server's database")
	case v < want:
		return objections.Invalid("VERZET_DATABASE_URL", maskDSN(c.DatabaseURL),
			"holds a verzet store at schema version %d; this verzet needs %d: run 'verzet migrate' (or start the new 'verzet serve') first", v, want)
	}
	return nil
}

// sqliteExists refuses a missing embedded store without creating anything.
func sqliteExists(c StoreConfig) error {
	p := c.SQLitePath()
	st, err := os.Stat(p)
	switch {
	case err == nil && st.Mode().IsRegular():
		return nil
	case err == nil:
		return objections.Invalid("VERZET_DATA_DIR", c.DataDir, "holds %s, which is not a file", p)
	case errors.Is(err, fs.ErrNotExist):
		return objections.Invalid("VERZET_DATA_DIR", c.DataDir,
			"holds no store: %s does not exist. Point VERZET_DATA_DIR (--data-dir) at the server's data dir, "+
				"or VERZET_DATABASE_URL (--database-url) at its PostgreSQL; or run 'verzet init' to create a new store there", p)
	}
	return objections.Invalid("VERZET_DATA_DIR", c.DataDir, "cannot be read: %v", err)
}

// SQLitePath is where the embedded store lives, as an absolute path.
func (c StoreConfig) SQLitePath() string {
	p := filepath.Join(c.DataDir, "verzet.db")
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// Kind names the store for logs, without secrets.
func (c StoreConfig) Kind() string {
	if c.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

// Where names the store and the setting that chose it, for the messages
// of commands that change the register: "/srv/verzet/verzet.db
// (VERZET_DATA_DIR)" or "postgres://verzet:xxxxx@db/verzet (--database-url)".
func (c StoreConfig) Where() string {
	if c.DatabaseURL != "" {
		return maskDSN(c.DatabaseURL) + " (" + c.databaseURLFrom.String() + ")"
	}
	return c.SQLitePath() + " (" + c.dataDirFrom.String() + ")"
}

// checkDatabaseURL accepts a PostgreSQL URL or a key=value string.
func checkDatabaseURL(v string) error {
	if v == "" {
		return nil
	}
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		if u, err := url.Parse(v); err == nil && u.Host != "" || err == nil && u.Query().Get("host") != "" {
			return nil
		}
		return malformedDatabaseURL(v)
	}
	for _, f := range strings.Fields(v) {
		if k, _, ok := strings.Cut(f, "="); !ok || k == "" {
			return malformedDatabaseURL(v)
		}
	}
	return nil
}

func malformedDatabaseURL(v string) error {
	return objections.Invalid("VERZET_DATABASE_URL", maskDSN(v),
		"is not a PostgreSQL connection string: expected postgres://user:pass@host:5432/db, or key=value pairs (host=db port=5432 user=verzet dbname=verzet)")
}

var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:\\.|[^'])*'|\S+)`)

// maskDSN hides the password of a PostgreSQL URL or key=value string,
// and of anything with user:password@ in it.
func maskDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		if u, err := url.Parse(dsn); err == nil {
			if q := u.Query(); q.Has("password") {
				q.Set("password", "xxxxx")
				u.RawQuery = q.Encode()
			}
			return u.Redacted()
		}
	}
	dsn = kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		if c := strings.LastIndex(dsn[:at], ":"); c >= 0 && !strings.HasPrefix(dsn[c:], "://") {
			return dsn[:c+1] + "xxxxx" + dsn[at:]
		}
	}
	return dsn
}

// errCause is the message of the error a store error wraps (connection
// refused, password authentication failed, …) on one line, each distinct
// attempt once. pgx's messages name the host, user and database, never the
// password.
func errCause(err error) string {
	var e *objections.Error
	if errors.As(err, &e) && e.Err != nil {
		err = e.Err
	}
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" && !slices.Contains(parts, line) {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}
