package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections/storetest"
)

// The statements of the previous release still run on a database this
// release migrated (a server upgraded in place, or a command line of the
// release before on the same data dir).
func TestPreviousReleaseStatements(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "verzet.db"))
	s = storetest.Migrated(t, s, err)
	for _, st := range storetest.ReadStatements(t, "testdata/previous_release.sql") {
		var n int64
		up := strings.ToUpper(st.SQL)
		if strings.HasPrefix(up, "SELECT") || strings.Contains(up, "RETURNING") {
			rows, err := s.db.QueryContext(ctx, st.SQL, st.Args...)
			if err == nil {
				for rows.Next() {
					n++
				}
				rows.Close()
				err = rows.Err()
			}
			if err != nil {
				t.Fatalf("previous_release.sql:%d %s: %v", st.Line, st.Name, err)
			}
		} else {
			res, err := s.db.ExecContext(ctx, st.SQL, st.Args...)
			if err == nil {
				n, err = res.RowsAffected()
			}
			if err != nil {
				t.Fatalf("previous_release.sql:%d %s: %v", st.Line, st.Name, err)
			}
		}
		if st.Rows >= 0 && n != int64(st.Rows) {
			t.Errorf("previous_release.sql:%d %s: %d rows, want %d", st.Line, st.Name, n, st.Rows)
		}
	}
}
