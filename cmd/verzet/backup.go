package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/sqlite"
)

func (a *App) backupCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the embedded store to a new FILE while serve runs, and verify it",
		Long: `Writes a consistent copy of the embedded SQLite store (verzet.db in VERZET_DATA_DIR) to FILE,
while serve keeps running and writing: the copy is the store as of one moment (SQLite's VACUUM
INTO, one read transaction). FILE must not exist; it is written beside its final name, flushed
to disk and only then put in place, readable by its owner only. The backup is then opened and
checked: its event chain must verify, as 'verzet verify' does, and its tables are counted.

To restore: stop serve, put the backup in the data dir as verzet.db (removing verzet.db-wal and
verzet.db-shm of the old store), run 'verzet verify', start serve.

A PostgreSQL store (VERZET_DATABASE_URL) is backed up with PostgreSQL's own tools, pg_dump or
base backups: this command refuses it and says so.

Exit status: 0 written and verified, 1 written but its chain does not verify, 2 error.`,
		Example: `  verzet backup --data-dir /srv/verzet /srv/backup/verzet-$(date +%F).db`,
		GroupID: groupServer,
	}
	b := a.storeBinding(cmd, &cfg)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("FILE", strings.Join(args, " "), "backup takes exactly one argument: the new file to write")
		}
		if cfg.Store.DatabaseURL != "" {
			return exitFailure, objections.Errorf(objections.EINVALID,
				"the store is PostgreSQL (%s): verzet backup copies the embedded SQLite store only. "+
					"Back PostgreSQL up with its own tools: pg_dump --format=custom --file=verzet.dump \"$VERZET_DATABASE_URL\" "+
					"for a logical backup, or pg_basebackup with WAL archiving for point-in-time recovery (docs/operations.md)", cfg.Store.Where())
		}
		path := args[0]
		if _, err := os.Lstat(path); err == nil {
			return exitFailure, objections.Invalid("FILE", path, "exists already: a backup never overwrites a file; name a new one")
		}
		s, err := openStore(ctx, cfg.Store, existingStore)
		if err != nil {
			return exitFailure, err
		}
		defer s.Close()
		began := time.Now()
		if err := s.copy.backup(ctx, path); err != nil {
			return exitFailure, err
		}
		took := time.Since(began)
		size := int64(0)
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		fmt.Fprintf(a.stdout, "backed up %s\n       to %s (%.1f MiB) in %s\n", cfg.Store.Where(), path, float64(size)/(1<<20), took.Round(time.Millisecond))
		return a.checkBackup(ctx, path)
	})
}

// checkBackup opens the backup, counts its tables and walks its event
// chain.
func (a *App) checkBackup(ctx context.Context, path string) (int, error) {
	bs, err := sqlite.Open(ctx, path)
	if err != nil {
		return exitFailure, fmt.Errorf("open the backup: %w", err)
	}
	defer bs.Close()
	sn, err := bs.Snapshot(ctx)
	if err != nil {
		return exitFailure, fmt.Errorf("read the backup: %w", err)
	}
	defer sn.Close()
	tables, err := sn.Tables(ctx)
	if err != nil {
		return exitFailure, err
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	slices.Sort(names)
	fmt.Fprintf(a.stdout, "%-20s %10s\n", "table", "rows")
	for _, t := range names {
		n, err := sn.Count(ctx, t)
		if err != nil {
			return exitFailure, err
		}
		fmt.Fprintf(a.stdout, "%-20s %10d\n", t, n)
	}
	return a.verifyChain(ctx, bs, " in the backup")
}
