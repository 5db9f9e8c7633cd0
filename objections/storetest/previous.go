package storetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Statement is one SQL statement of a previous release, as a store's
// testdata/previous_release.sql keeps it: migrations only go forward, and
// during a rolling update the instances of the release before still run
// these on the schema the new release migrated. A store's test runs every
// statement, in order, on a fully migrated database, so that a migration
// that would break them (a column dropped or renamed, a NOT NULL without a
// default) fails there and not in production.
type Statement struct {
	Name string // what the previous release does with it
	Line int    // of the "-- name:" line
	SQL  string
	// Args are the statement's parameters: strings (in the text form the
	// database reads: times as RFC 3339), whole numbers, booleans or nil.
	Args []any
	// Rows is how many rows the statement must return or change; -1 when
	// the file does not say.
	Rows int
}

// ReadStatements reads a previous_release.sql file. Each statement starts
// with a "-- name: WHAT" line, which "-- args: [JSON array]" and
// "-- rows: N" lines may follow; its SQL runs to the next "-- name:" line.
// Other comment lines (the file's header) are ignored.
func ReadStatements(t testing.TB, path string) []Statement {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		out []Statement
		cur *Statement
		sql strings.Builder
	)
	flush := func() {
		if cur != nil {
			cur.SQL = strings.TrimSpace(sql.String())
			if cur.SQL == "" {
				t.Fatalf("%s:%d: statement %q has no SQL", path, cur.Line, cur.Name)
			}
			out = append(out, *cur)
		}
		sql.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "-- name:"); ok {
			flush()
			cur = &Statement{Name: strings.TrimSpace(name), Line: n, Rows: -1}
			continue
		}
		if cur == nil || (sql.Len() == 0 && strings.HasPrefix(line, "--")) {
			if cur != nil {
				if err := directive(cur, line); err != nil {
					t.Fatalf("%s:%d: %v", path, n, err)
				}
			}
			continue
		}
		sql.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	if len(out) == 0 {
		t.Fatalf("%s holds no statement", path)
	}
	return out
}

// directive reads an "-- args:" or "-- rows:" line into s; other comments
// are skipped.
func directive(s *Statement, line string) error {
	if v, ok := strings.CutPrefix(line, "-- rows:"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("rows: %q is not a count", v)
		}
		s.Rows = n
		return nil
	}
	v, ok := strings.CutPrefix(line, "-- args:")
	if !ok {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("args: %w", err)
	}
	for i, a := range raw {
		switch a := a.(type) {
		case json.Number:
			n, err := a.Int64()
			if err != nil {
				return fmt.Errorf("args[%d]: %s is not a whole number", i, a)
			}
			s.Args = append(s.Args, n)
		case string, bool, nil:
			s.Args = append(s.Args, a)
		default:
			return fmt.Errorf("args[%d]: %v: give arrays and objects as strings, in the database's text form", i, a)
		}
	}
	return nil
}
