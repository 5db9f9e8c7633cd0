// Package pgtest gives each test a database of its own on the PostgreSQL
// named by VERZET_TEST_DATABASE_URL. scripts/test (make test) starts a
// private throwaway cluster and sets the variable; PostgreSQL tests never
// skip, so without it they fail and say how to get one.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the maintenance DSN: a PostgreSQL where the tests may create
// and drop databases.
const EnvVar = "VERZET_TEST_DATABASE_URL"

// DSN creates an empty database with a random name for t, drops it when t
// ends, and returns its DSN. It fails t when EnvVar is unset or the server
// cannot create the database.
func DSN(t testing.TB) string {
	t.Helper()
	if fastMode {
		t.Skip("PostgreSQL test skipped by make test-fast (-tags testfast); make test runs it")
	}
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Fatalf("%s is not set: run `make test` (scripts/test), which starts a throwaway PostgreSQL, "+
			"or set %s to a PostgreSQL DSN where the tests may create databases", EnvVar, EnvVar)
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	name := "verzet_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := maintain(ctx, base, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends the sessions of a store a test forgot to close.
		if err := maintain(ctx, base, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvVar, err)
	}
	return dsn
}

// maintain runs one statement on a connection of its own to base.
func maintain(ctx context.Context, base, sql string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dsn with its database replaced by name, for both
// URL and keyword/value DSNs.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		q.Del("dbname")
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// In a keyword/value DSN a later keyword wins.
	return dsn + " dbname=" + name, nil
}
