// Command depcheck enforces the package dependency rule of the README's
// architecture map: it lists every package's imports with `go list` and fails
// when a package imports something its row of the table does not allow.
//
// Matching is exact: a rule "objections" allows that package and nothing
// below it; "github.com/jackc/pgx/v5/..." allows the module's whole subtree.
// A package is governed by its own row, or by the nearest row written as a
// subtree ("cmd/...") above it; a package in no row is an error, so a new
// package needs a new row.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

const mod = "github.com/verzet/verzet"

// rules maps a package of this module (relative path; "x/..." for a subtree)
// to what it may import besides the standard library: packages of this module
// as relative paths, others as full import paths; "..." at the end of an
// entry allows a subtree, "*" allows everything.
var rules = map[string][]string{
	"objections":                  {"github.com/nyaruka/phonenumbers/..."},
	"objections/access":           {"objections"},
	"objections/postgres":         {"objections", "objections/access", "github.com/jackc/pgx/v5/..."},
	"objections/postgres/pgtest":  {"github.com/jackc/pgx/v5/..."},
	"objections/sqlite":           {"objections", "objections/access", "modernc.org/sqlite/..."},
	"objections/spool":            {"objections"},
	"objections/storetest":        {"objections", "objections/access"},
	"objections/httpapi":          {"objections", "objections/access", "go.uber.org/zap/...", "github.com/prometheus/client_golang/..."},
	"objections/review":           {"objections", "objections/access", "go.uber.org/zap/...", "golang.org/x/crypto/bcrypt"},
	"prompts":                     {},
	"prompts/gen":                 {"prompts"},
	"prompts/beep":                {"prompts", "github.com/gopxl/beep/v2/..."},
	"prompts/espeak":              {},
	"ivr":                         {"objections", "prompts", "go.uber.org/zap/..."},
	"ivr/ivrtest":                 {"ivr", "objections", "prompts"},
	"telephony":                   {},
	"telephony/ari":               {"ivr", "prompts", "objections", "go.uber.org/zap/...", "github.com/CyCoreSystems/ari/v5/..."},
	"telephony/ari/aritest/...":   {"telephony/ari/aritest"},
	"telephony/twilio":            {"ivr", "prompts", "objections", "go.uber.org/zap/...", "github.com/twilio/twilio-go/..."},
	"telephony/twilio/twiliotest": {"telephony/twilio", "ivr", "prompts", "objections"},
	"cmd/...":                     {"*"},
	"scripts/...":                 {"*"},
}

func main() {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "depcheck: go list:", err)
		os.Exit(2)
	}
	pkgs, err := parseList(bytes.NewReader(out))
	if err != nil {
		fmt.Fprintln(os.Stderr, "depcheck:", err)
		os.Exit(2)
	}
	if bad := check(pkgs, rules); len(bad) > 0 {
		for _, b := range bad {
			fmt.Println("depcheck:", b)
		}
		os.Exit(1)
	}
}

// pkg is one package and its (non-test) imports, all full import paths.
type pkg struct {
	path    string
	imports []string
}

func parseList(r io.Reader) ([]pkg, error) {
	var pkgs []pkg
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			pkgs = append(pkgs, pkg{path: f[0], imports: f[1:]})
		}
	}
	return pkgs, sc.Err()
}

// check returns one message for each package in no row and each forbidden
// import edge, sorted.
func check(pkgs []pkg, rules map[string][]string) []string {
	var bad []string
	for _, p := range pkgs {
		rel := relative(p.path)
		allowed, ok := ruleFor(rules, rel)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s is in no row of the dependency table (add one to scripts/depcheck and the README)", rel))
			continue
		}
		for _, imp := range p.imports {
			if isStd(imp) || permitted(allowed, imp) {
				continue
			}
			bad = append(bad, fmt.Sprintf("%s imports %s, which the dependency rule forbids", rel, relative(imp)))
		}
	}
	sort.Strings(bad)
	return bad
}

// relative strips this module's path: "github.com/verzet/verzet/ivr" → "ivr".
func relative(p string) string {
	if p == mod {
		return "."
	}
	if r, ok := strings.CutPrefix(p, mod+"/"); ok {
		return r
	}
	return p
}

// ruleFor finds rel's row: its exact entry, else the longest subtree entry
// ("x/...") that holds it.
func ruleFor(rules map[string][]string, rel string) ([]string, bool) {
	if r, ok := rules[rel]; ok {
		return r, true
	}
	best, found := "", false
	for k := range rules {
		tree, ok := strings.CutSuffix(k, "/...")
		if !ok || (rel != tree && !strings.HasPrefix(rel, tree+"/")) {
			continue
		}
		if !found || len(k) > len(best) {
			best, found = k, true
		}
	}
	return rules[best], found
}

func permitted(allowed []string, imp string) bool {
	rel := relative(imp)
	for _, a := range allowed {
		if a == "*" || a == rel {
			return true
		}
		if tree, ok := strings.CutSuffix(a, "/..."); ok && (rel == tree || strings.HasPrefix(rel, tree+"/")) {
			return true
		}
	}
	return false
}

// isStd reports whether imp is a standard-library path (no dot in its first
// element).
func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}
