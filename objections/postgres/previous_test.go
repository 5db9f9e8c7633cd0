package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/objections/storetest"
)

// The statements of the previous release still run on a database this
// release migrated: a rolling update has both on one schema for a while.
// Each is prepared as the old binary's pgx prepares it, so a parameter
// whose type a migration changed fails too.
func TestPreviousReleaseStatements(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	if err := openDSN(t, dsn).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, st := range storetest.ReadStatements(t, "testdata/previous_release.sql") {
		rows, err := conn.Query(ctx, st.SQL, st.Args...)
		if err == nil {
			for rows.Next() {
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			t.Fatalf("previous_release.sql:%d %s: %v", st.Line, st.Name, err)
		}
		if n := rows.CommandTag().RowsAffected(); st.Rows >= 0 && n != int64(st.Rows) {
			t.Errorf("previous_release.sql:%d %s: %d rows, want %d", st.Line, st.Name, n, st.Rows)
		}
	}
}
