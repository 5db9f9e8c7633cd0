package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/sqlite"
)

// exitPending is migrate --status's answer when the store lacks migrations
// this binary has: the "no" of check and verify.
const exitPending = exitNo

// migration is one row of migrate --status, from either store.
type migration struct {
	version   int
	name      string
	applied   bool
	appliedAt time.Time
	known     bool // this binary has it
}

// migrateStatus prints the store's applied and pending migrations and
// returns exitOK when none is pending, exitPending otherwise. It creates
// and changes nothing.
func (a *App) migrateStatus(ctx context.Context, c StoreConfig) (int, error) {
	ms, exists, err := storeMigrations(ctx, c)
	if err != nil {
		return exitFailure, err
	}
	fmt.Fprintf(a.stdout, "store: %s %s\n", c.Kind(), c.Where())
	if !exists {
		fmt.Fprintln(a.stdout, "no store there yet: every migration is pending; 'verzet migrate' (or 'verzet init') creates it")
		return exitPending, nil
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED (Europe/Amsterdam)")
	var pending, newer, applied, known int
	for _, m := range ms {
		state := "pending"
		switch {
		case m.applied && !m.known:
			state = m.appliedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05") + "  (not in this binary)"
			newer++
		case m.applied:
			state = m.appliedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05")
		default:
			pending++
		}
		if m.applied {
			applied = max(applied, m.version)
		}
		if m.known {
			known = max(known, m.version)
		}
		fmt.Fprintf(tw, "%03d\t%s\t%s\n", m.version, m.name, state)
	}
	if err := tw.Flush(); err != nil {
		return exitFailure, err
	}
	switch {
	case pending > 0:
		fmt.Fprintf(a.stdout, "%d migration(s) pending: run 'verzet migrate' with this binary (exit %d)\n", pending, exitPending)
		return exitPending, nil
	case newer > 0:
		fmt.Fprintf(a.stdout, "nothing pending: the store is at schema version %d, newer than this binary's %d (a newer verzet migrated it; "+
			"see docs/operations.md, Upgrades)\n", applied, known)
	default:
		fmt.Fprintf(a.stdout, "up to date: schema version %d\n", applied)
	}
	return exitOK, nil
}

// storeMigrations reads the migrations of the configured store without
// creating or migrating it. exists is false for an embedded store whose
// file does not exist.
func storeMigrations(ctx context.Context, c StoreConfig) (ms []migration, exists bool, err error) {
	if c.DatabaseURL != "" {
		s, err := openStore(ctx, c, createStoreNoMigrate)
		if err != nil {
			return nil, false, err
		}
		defer s.Close()
		list, err := s.pg.Migrations(ctx)
		for _, m := range list {
			ms = append(ms, migration{version: m.Version, name: m.Name, applied: m.Applied, appliedAt: m.AppliedAt, known: m.Known})
		}
		return ms, true, err
	}
	if _, err := os.Stat(c.SQLitePath()); errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err := sqliteExists(c); err != nil {
		return nil, false, err
	}
	s, err := sqlite.Open(ctx, c.SQLitePath())
	if err != nil {
		return nil, false, err
	}
	defer s.Close()
	list, err := s.Migrations(ctx)
	for _, m := range list {
		ms = append(ms, migration{version: m.Version, name: m.Name, applied: m.Applied, appliedAt: m.AppliedAt, known: m.Known})
	}
	return ms, true, err
}
