package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/sqlite"
)

// verzet copy moves the whole register from the configured store into
// another, empty one: SQLite to PostgreSQL, PostgreSQL to SQLite (or to
// another of the same kind). The stores do the work table by table
// (objections/sqlite and objections/postgres, copy.go): each reads its own
// schema, so a table or column a migration adds is copied without a
// change here. This file orders the tables, refuses a target that holds
// data, and checks the copy.

// copySource is a consistent read of every table of a store
// (sqlite.Snapshot, postgres.Snapshot).
type copySource interface {
	// Tables returns the tables, each with the tables it references.
	Tables(ctx context.Context) (map[string][]string, error)
	Columns(ctx context.Context, table string) ([]string, error)
	Count(ctx context.Context, table string) (int64, error)
	Rows(ctx context.Context, table string, columns []string) iter.Seq2[[]any, error]
	Close() error
}

// copyTarget loads whole tables into a store in one transaction
// (sqlite.Loader, postgres.Loader).
type copyTarget interface {
	Tables(ctx context.Context) (map[string][]string, error)
	Columns(ctx context.Context, table string) ([]string, error)
	Count(ctx context.Context, table string) (int64, error)
	Load(ctx context.Context, table string, columns []string, rows iter.Seq2[[]any, error]) (int64, error)
	Commit(ctx context.Context) error
	Close() error
}

var (
	_ copySource = (*sqlite.Snapshot)(nil)
	_ copySource = (*postgres.Snapshot)(nil)
	_ copyTarget = (*sqlite.Loader)(nil)
	_ copyTarget = (*postgres.Loader)(nil)
)

// copyEnds opens either end of a copy on an opened store, and backs it up
// where the store can do that itself (SQLite).
type copyEnds struct {
	snapshot func(ctx context.Context) (copySource, error)
	loader   func(ctx context.Context) (copyTarget, error)
	// backup writes a consistent copy of the store to a new file; nil for
	// PostgreSQL, which is backed up with its own tools.
	backup func(ctx context.Context, path string) error
}

func postgresCopyEnds(s *postgres.Store) copyEnds {
	return copyEnds{snapshot: opener[copySource](s.Snapshot), loader: opener[copyTarget](s.Loader)}
}

func sqliteCopyEnds(s *sqlite.Store) copyEnds {
	return copyEnds{snapshot: opener[copySource](s.Snapshot), loader: opener[copyTarget](s.Loader), backup: s.Backup}
}

// opener turns a store's constructor of a concrete end into one of the
// interface, without a typed nil on error.
func opener[I any, T any](open func(context.Context) (T, error)) func(context.Context) (I, error) {
	return func(ctx context.Context) (I, error) {
		v, err := open(ctx)
		if err != nil {
			var zero I
			return zero, err
		}
		return any(v).(I), nil
	}
}

// skippedTables are not copied, with the reason copy prints.
var skippedTables = map[string]string{
	"ui_sessions": "sign-in sessions are not copied: people sign in to the UI again",
}

func (a *App) copyCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "copy --to URL|DIR",
		Short: "Copy the whole store into another, empty store (SQLite ⇄ PostgreSQL) and verify the copy",
		Long: `Copies everything the configured store holds into another store: orgs, objections and their
voids, offers, relations, consents, API tokens, users, the audit log, the dial-time decisions,
call states, the webhook outbox and the hash-chained event log. UI sign-in sessions are not
copied (people sign in again). Use it to move from the embedded store to PostgreSQL, or back.

--to is a PostgreSQL URL (postgres://… or key=value pairs), or a data dir for the embedded
store (verzet.db in it is created). The target is migrated first and must hold no data: copy
refuses a target with rows and names the table. Everything is loaded in one transaction, so a
failed copy leaves the target empty. The source is read in one consistent snapshot and may be
in use meanwhile, but what is written after the snapshot is not copied: stop serve (or stop
its writers) for a move.

Afterwards copy checks the copy: every table's row count must match the source's, and the event
chain must verify on the target (as 'verzet verify' does). It prints the counts.

Exit status: 0 copied and verified, 1 the copy does not match, 2 error (nothing copied).`,
		Example: `  verzet copy --data-dir /srv/verzet --to postgres://verzet:…@db:5432/verzet
  VERZET_DATABASE_URL=postgres://verzet:…@db:5432/verzet verzet copy --to /srv/verzet-sqlite`,
		GroupID: groupServer,
	}
	b := a.storeBinding(cmd, &cfg)
	to := cmd.Flags().String("to", "", "the store to copy into: a PostgreSQL URL or key=value string, or a data dir for the embedded store")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "copy takes no arguments: name the target with --to")
		}
		target, err := copyTargetConfig(*to)
		if err != nil {
			return exitFailure, err
		}
		if target.DatabaseURL != "" && target.DatabaseURL == cfg.Store.DatabaseURL ||
			target.DatabaseURL == "" && cfg.Store.DatabaseURL == "" && target.SQLitePath() == cfg.Store.SQLitePath() {
			return exitFailure, objections.Invalid("--to", *to, "is the configured store itself: name another store")
		}
		src, err := openStore(ctx, cfg.Store, existingStore)
		if err != nil {
			return exitFailure, err
		}
		defer src.Close()
		dst, err := openStore(ctx, target, createStore)
		if err != nil {
			return exitFailure, asToFlag(err, *to)
		}
		defer dst.Close()
		fmt.Fprintf(a.stdout, "copying the %s store %s\n           into the %s store %s\n", cfg.Store.Kind(), cfg.Store.Where(), target.Kind(), target.Where())
		counts, err := copyStore(ctx, src, dst, a.stdout)
		if err != nil {
			return exitFailure, err
		}
		return a.verifyCopy(ctx, dst, counts)
	})
}

// copyTargetConfig reads --to: a PostgreSQL URL or key=value string, or a
// data dir.
func copyTargetConfig(to string) (StoreConfig, error) {
	to = strings.TrimSpace(to)
	from := origin{flag: "to", source: sourceFlag}
	switch {
	case to == "":
		return StoreConfig{}, objections.Invalid("--to", to, "is required: a PostgreSQL URL (postgres://user:pass@host:5432/db) or a data dir for the embedded store")
	case strings.HasPrefix(to, "postgres://"), strings.HasPrefix(to, "postgresql://"), strings.Contains(to, "=") && checkDatabaseURL(to) == nil:
		if err := checkDatabaseURL(to); err != nil {
			return StoreConfig{}, asToFlag(err, to)
		}
		return StoreConfig{DatabaseURL: to, databaseURLFrom: from}, nil
	case strings.Contains(to, "://"):
		return StoreConfig{}, objections.Invalid("--to", maskDSN(to), "is neither a PostgreSQL URL (postgres://…) nor a data dir")
	}
	return StoreConfig{DataDir: filepath.Clean(to), dataDirFrom: from}, nil
}

// asToFlag names --to in an error about the target's URL or data dir.
func asToFlag(err error, to string) error {
	var e *objections.Error
	if errors.As(err, &e) && (e.Field == "VERZET_DATABASE_URL" || e.Field == "VERZET_DATA_DIR") {
		c := *e
		c.Field = "--to"
		return &c
	}
	return err
}

// tableCount is one table's rows in the source, and what was done.
type tableCount struct {
	table   string
	source  int64
	skipped string // why it was not copied
}

// copyStore copies every table of src into dst in the order of their
// references and returns the source's counts.
func copyStore(ctx context.Context, src, dst *stores, out io.Writer) ([]tableCount, error) {
	start := time.Now()
	ld, err := dst.copy.loader(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the target for loading: %w", err)
	}
	defer ld.Close()
	targetTables, err := ld.Tables(ctx)
	if err != nil {
		return nil, err
	}
	order, err := loadOrder(targetTables)
	if err != nil {
		return nil, err
	}
	for _, t := range order {
		n, err := ld.Count(ctx, t)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, objections.Errorf(objections.EINVALID, "the target is not empty: table %s has %d rows; copy only fills an empty store (a new database, or a data dir without verzet.db)", t, n)
		}
	}
	sn, err := src.copy.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer sn.Close()
	sourceTables, err := sn.Tables(ctx)
	if err != nil {
		return nil, err
	}
	var counts []tableCount
	for t := range sourceTables {
		if _, ok := targetTables[t]; ok {
			continue
		}
		// A table the target lacks: its rows would be lost.
		n, err := sn.Count(ctx, t)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, objections.Errorf(objections.EINVALID, "the source's table %s (%d rows) does not exist in the target: is the target's verzet older than the source's?", t, n)
		}
	}
	var total int64
	for _, t := range order {
		if _, ok := sourceTables[t]; !ok {
			fmt.Fprintf(out, "  %-20s not in the source: left empty\n", t)
			continue
		}
		n, err := sn.Count(ctx, t)
		if err != nil {
			return nil, err
		}
		if why, skip := skippedTables[t]; skip {
			counts = append(counts, tableCount{table: t, source: n, skipped: why})
			fmt.Fprintf(out, "  %-20s %10d rows skipped: %s\n", t, n, why)
			continue
		}
		cols, err := copyColumns(ctx, t, sn, ld)
		if err != nil {
			return nil, err
		}
		began := time.Now()
		loaded, err := ld.Load(ctx, t, cols, sn.Rows(ctx, t, cols))
		if err != nil {
			return nil, fmt.Errorf("copy table %s: %w", t, err)
		}
		if loaded != n {
			return nil, objections.Errorf(objections.EINTERNAL, "copy table %s: %d rows loaded, the source has %d", t, loaded, n)
		}
		counts = append(counts, tableCount{table: t, source: n})
		total += n
		fmt.Fprintf(out, "  %-20s %10d rows  %s\n", t, n, time.Since(began).Round(time.Millisecond))
	}
	if err := ld.Commit(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "copied %d rows of %d tables in %s\n", total, len(counts), time.Since(start).Round(time.Millisecond))
	return counts, nil
}

// copyColumns returns the columns to copy: the target's that the source
// has. A source column the target lacks is an error (its data would be
// lost); a target column the source lacks keeps its default.
func copyColumns(ctx context.Context, t string, sn copySource, ld copyTarget) ([]string, error) {
	have, err := sn.Columns(ctx, t)
	if err != nil {
		return nil, err
	}
	want, err := ld.Columns(ctx, t)
	if err != nil {
		return nil, err
	}
	for _, c := range have {
		if !slices.Contains(want, c) {
			return nil, objections.Errorf(objections.EINVALID, "the source's column %s.%s does not exist in the target: is the target's verzet older than the source's?", t, c)
		}
	}
	var cols []string
	for _, c := range want {
		if slices.Contains(have, c) {
			cols = append(cols, c)
		}
	}
	return cols, nil
}

// loadOrder orders tables so that each comes after the tables it
// references (by name where the references leave a choice). EINTERNAL for
// a cycle, which the schema does not have.
func loadOrder(refs map[string][]string) ([]string, error) {
	var order []string
	done := map[string]bool{}
	for len(order) < len(refs) {
		var ready []string
		for t, rs := range refs {
			if done[t] {
				continue
			}
			if !slices.ContainsFunc(rs, func(r string) bool { _, known := refs[r]; return known && !done[r] }) {
				ready = append(ready, t)
			}
		}
		if len(ready) == 0 {
			var left []string
			for t := range refs {
				if !done[t] {
					left = append(left, t)
				}
			}
			slices.Sort(left)
			return nil, objections.Errorf(objections.EINTERNAL, "order tables for copying: their references form a cycle among %s", strings.Join(left, ", "))
		}
		slices.Sort(ready)
		t := ready[0]
		done[t] = true
		order = append(order, t)
	}
	return order, nil
}

// verifyCopy counts every table on the committed target and walks its
// event chain, as verzet verify does.
func (a *App) verifyCopy(ctx context.Context, dst *stores, counts []tableCount) (int, error) {
	sn, err := dst.copy.snapshot(ctx)
	if err != nil {
		return exitFailure, err
	}
	defer sn.Close()
	fmt.Fprintf(a.stdout, "%-20s %10s %10s\n", "table", "source", "copy")
	ok := true
	for _, c := range counts {
		n, err := sn.Count(ctx, c.table)
		if err != nil {
			return exitFailure, err
		}
		mark := ""
		switch {
		case c.skipped != "":
			mark = "  skipped"
		case n != c.source:
			mark, ok = "  MISMATCH", false
		}
		fmt.Fprintf(a.stdout, "%-20s %10d %10d%s\n", c.table, c.source, n, mark)
	}
	code, err := a.verifyChain(ctx, dst.Register, " on the copy")
	if err != nil {
		return code, err
	}
	if !ok || code != exitOK {
		fmt.Fprintln(a.stdout, "THE COPY DOES NOT MATCH THE SOURCE: do not use it")
		return exitNo, nil
	}
	fmt.Fprintln(a.stdout, "copy verified: every table's row count matches and the event chain is intact")
	return exitOK, nil
}

// verifyChain walks the event log of r as verzet verify does and prints
// the outcome, where saying of which store (" on the copy"): exitOK
// intact, exitNo broken.
func (a *App) verifyChain(ctx context.Context, r objections.EventReader, where string) (int, error) {
	n, err := objections.VerifyChain(ctx, r)
	var ce *objections.ChainError
	if asChainError(err, &ce) {
		fmt.Fprintf(a.stdout, "BROKEN%s: %s (the %d events before it are intact)\n", where, ce.Error(), n)
		return exitNo, nil
	}
	if err != nil {
		return exitFailure, err
	}
	fmt.Fprintf(a.stdout, "chain intact%s: %d events verified\n", where, n)
	return exitOK, nil
}
