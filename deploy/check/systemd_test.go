package check

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

func unitPath(t testing.TB) string { return filepath.Join(deployDir(t), "systemd", "verzet.service") }

// unitSettings reads a unit file into section.Key → values, in order.
func unitSettings(t testing.TB, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "["):
			section = strings.Trim(l, "[]")
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("%s: not a setting: %q", path, l)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnitHardened(t *testing.T) {
	u := unitSettings(t, unitPath(t))
	want := map[string]string{
		"Service.ExecStart":               "/usr/local/bin/verzet serve",
		"Service.EnvironmentFile":         "/etc/verzet/verzet.env",
		"Service.DynamicUser":             "yes",
		"Service.StateDirectory":          "verzet",
		"Service.ProtectSystem":           "strict",
		"Service.ProtectHome":             "yes",
		"Service.PrivateTmp":              "yes",
		"Service.PrivateDevices":          "yes",
		"Service.NoNewPrivileges":         "yes",
		"Service.CapabilityBoundingSet":   "",
		"Service.AmbientCapabilities":     "",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"Service.RestrictNamespaces":      "yes",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Service.SystemCallArchitectures": "native",
		"Install.WantedBy":                "multi-user.target",
	}
	for k, v := range want {
		if got := u[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// The data dir is the state directory, the only place it may write.
	if !slices.Contains(u["Service.Environment"], "VERZET_DATA_DIR=%S/verzet") {
		t.Errorf("Environment %q does not put VERZET_DATA_DIR in the state directory", u["Service.Environment"])
	}
	if !slices.Contains(u["Service.SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter %q, want @system-service", u["Service.SystemCallFilter"])
	}
}

// sdRoot lays out a root for systemd-analyze --root: the host's system
// units (for the targets the unit names), the unit, and an executable at
// ExecStart's path.
func sdRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	units := "/usr/lib/systemd/system"
	if err := os.CopyFS(filepath.Join(root, units), os.DirFS(units)); err != nil {
		t.Fatalf("copy %s: %v", units, err)
	}
	unit, err := os.ReadFile(unitPath(t))
	if err != nil {
		t.Fatal(err)
	}
	for dir, file := range map[string]string{"etc/systemd/system": "verzet.service", "usr/local/bin": "verzet"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		body, mode := unit, os.FileMode(0o644)
		if file == "verzet" {
			body, mode = []byte("#!/bin/sh\n"), 0o755
		}
		if err := os.WriteFile(filepath.Join(root, dir, file), body, mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func systemdAnalyze(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian: systemd)")
	}
	return p
}

// TestSystemdUnitVerifies: systemd itself accepts the unit, without a
// single warning (an unknown or misspelt key is only a warning to it).
func TestSystemdUnitVerifies(t *testing.T) {
	sa := systemdAnalyze(t)
	root := sdRoot(t)
	out, err := exec.Command(sa, "verify", "--root="+root, "verzet.service").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// And its own exposure score stays "OK" (below 2.0 of 10).
	out, err = exec.Command(sa, "security", "--offline=yes", "--threshold=20", "--root="+root, "verzet.service").CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: %v\n%s", err, tail(out, 800))
	}
	if m := regexp.MustCompile(`Overall exposure level for verzet.service: ([0-9.]+)`).FindSubmatch(out); m == nil {
		t.Errorf("no exposure level in:\n%s", tail(out, 800))
	} else {
		t.Logf("exposure level %s", m[1])
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// verzetBinary is $VERZET_BIN, or verzet built from this repository.
func verzetBinary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("VERZET_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "verzet-check-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "verzet")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/verzet")
		cmd.Dir = filepath.Dir(deployDir(t))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build verzet: %v", buildErr)
	}
	return builtBin
}

// TestDeployFilesNameRealSettings: every VERZET_* variable the compose
// file, the chart, the unit and the example env files name is one
// `verzet serve --help` knows, so a typo in them can not silently do nothing.
func TestDeployFilesNameRealSettings(t *testing.T) {
	out, err := exec.Command(verzetBinary(t), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("verzet serve --help: %v\n%s", err, out)
	}
	known := map[string]bool{"VERZET_IMAGE": true} // compose's own variable: the image to run
	for _, m := range regexp.MustCompile(`\[(VERZET_[A-Z0-9_]+)\]`).FindAllSubmatch(out, -1) {
		known[string(m[1])] = true
	}
	if len(known) < 20 {
		t.Fatalf("serve --help lists only %d settings:\n%s", len(known), out)
	}
	templates, err := filepath.Glob(filepath.Join(chartDir(t), "templates", "*"))
	if err != nil {
		t.Fatal(err)
	}
	files := append(templates,
		filepath.Join(chartDir(t), "values.yaml"),
		filepath.Join(deployDir(t), "compose", "compose.yaml"),
		filepath.Join(deployDir(t), "compose", ".env.example"),
		filepath.Join(deployDir(t), "systemd", "verzet.service"),
		filepath.Join(deployDir(t), "systemd", "verzet.env.example"),
		filepath.Join(deployDir(t), "Containerfile"),
	)
	name := regexp.MustCompile(`\bVERZET_[A-Z0-9_]*[A-Z0-9]\b`)
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAll(b, -1) {
			seen++
			if !known[string(m)] {
				t.Errorf("%s: %s is not a verzet setting", filepath.Base(f), m)
			}
		}
	}
	if seen < 30 {
		t.Errorf("found only %d VERZET_ names: is the check still reading the files?", seen)
	}
}
