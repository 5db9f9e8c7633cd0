package main

import (
	"strings"
	"testing"
)

func m(rel string) string { return mod + "/" + rel }

// TestForbiddenEdges feeds the check edges the table forbids, including ones
// that a prefix match would have let through, and expects each to be named.
func TestForbiddenEdges(t *testing.T) {
	cases := []struct {
		name string
		p    pkg
		want string
	}{
		{"ivr imports a store", pkg{m("ivr"), []string{m("objections/postgres")}}, "ivr imports objections/postgres"},
		{"domain imports access", pkg{m("objections"), []string{m("objections/access")}}, "objections imports objections/access"},
		{"adapter imports the other adapter", pkg{m("telephony/ari"), []string{m("telephony/twilio")}}, "telephony/ari imports telephony/twilio"},
		{"prompts imports zap", pkg{m("prompts"), []string{"go.uber.org/zap"}}, "prompts imports go.uber.org/zap"},
		{"access imports a store", pkg{m("objections/access"), []string{m("objections/sqlite")}}, "objections/access imports objections/sqlite"},
		{"a module that shares a prefix", pkg{m("objections/postgres"), []string{"github.com/jackc/pgx/v5extra"}}, "imports github.com/jackc/pgx/v5extra"},
		{"a package in no row", pkg{m("objections/newthing"), nil}, "objections/newthing is in no row"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := check([]pkg{c.p}, rules)
			if len(bad) != 1 || !strings.Contains(bad[0], c.want) {
				t.Fatalf("check = %q, want one message containing %q", bad, c.want)
			}
		})
	}
}

// TestAllowedEdges: the rows the table grants pass.
func TestAllowedEdges(t *testing.T) {
	pkgs := []pkg{
		{m("ivr"), []string{"context", m("objections"), m("prompts"), "go.uber.org/zap", "go.uber.org/zap/zapcore"}},
		{m("objections/postgres"), []string{m("objections"), "github.com/jackc/pgx/v5", "github.com/jackc/pgx/v5/pgxpool"}},
		{m("cmd/verzet"), []string{m("objections/postgres"), "github.com/spf13/cobra"}},
		{m("telephony/ari/aritest/fakeari"), []string{m("telephony/ari/aritest")}},
	}
	if bad := check(pkgs, rules); len(bad) != 0 {
		t.Fatalf("check = %q, want none", bad)
	}
}
