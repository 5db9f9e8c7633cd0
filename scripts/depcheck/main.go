// Command depcheck enforces the package dependency rule of STYLE.md §1: it
// lists every package's imports with `go list` and fails when a package
// imports something its row of the table does not allow.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const mod = "github.com/verzet/verzet"

// allowed maps a package (relative to the module) to the prefixes it may
// import besides the standard library. A package not listed falls under the
// longest listed prefix of its path.
var allowed = map[string][]string{
	"objections":                {"github.com/nyaruka/phonenumbers"},
	"objections/postgres":       {mod + "/objections", "github.com/jackc/pgx/v5"},
	"objections/sqlite":         {mod + "/objections", "modernc.org/sqlite"},
	"objections/spool":          {mod + "/objections"},
	"objections/storetest":      {mod + "/objections"},
	"objections/objectionstest": {mod + "/objections"},
	"objections/httpapi":        {mod + "/objections", "go.uber.org/zap", "github.com/prometheus/client_golang"},
	"objections/review":         {mod + "/objections", "go.uber.org/zap", "golang.org/x/crypto/bcrypt"},
	"prompts":                   {},
	"prompts/gen":               {mod + "/prompts"},
	"ivr":                       {mod + "/objections", mod + "/prompts", mod + "/ivr", "go.uber.org/zap"},
	"telephony":                 {},
	"telephony/ari":             {mod + "/ivr", mod + "/prompts", mod + "/objections", mod + "/telephony/ari", "go.uber.org/zap", "github.com/CyCoreSystems/ari/v5"},
	"telephony/twilio":          {mod + "/ivr", mod + "/prompts", mod + "/objections", mod + "/telephony/twilio", "go.uber.org/zap", "github.com/twilio/twilio-go"},
	"cmd":                       {""}, // everything
	"scripts":                   {""},
}

func main() {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "depcheck: go list:", err)
		os.Exit(2)
	}
	bad := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(fields[0], mod), "/")
		rule, ok := ruleFor(rel)
		if !ok {
			fmt.Printf("depcheck: %s is in no row of the dependency table (STYLE.md §1)\n", rel)
			bad++
			continue
		}
		for _, imp := range fields[1:] {
			if isStd(imp) || permitted(rule, imp) {
				continue
			}
			fmt.Printf("depcheck: %s imports %s, which the dependency rule forbids\n", rel, imp)
			bad++
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
}

func ruleFor(rel string) ([]string, bool) {
	best, found := "", false
	for k := range allowed {
		if (rel == k || strings.HasPrefix(rel, k+"/")) && len(k) >= len(best) {
			best, found = k, true
		}
	}
	return allowed[best], found
}

func permitted(rule []string, imp string) bool {
	for _, p := range rule {
		if p == "" || imp == p || strings.HasPrefix(imp, p+"/") {
			return true
		}
	}
	return false
}

// isStd reports whether imp is a standard-library path (no dot in its first element).
func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}
