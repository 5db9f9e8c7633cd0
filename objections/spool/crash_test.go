package spool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/sqlite"
)

// The crash tests re-run the test binary as a child process that works on a
// spool and then dies without closing it, as a crashed verzet would.
const (
	childModeEnv  = "VERZET_SPOOL_TEST_CHILD"
	childDirEnv   = "VERZET_SPOOL_TEST_DIR"
	childCountEnv = "VERZET_SPOOL_TEST_COUNT"
	childDBEnv    = "VERZET_SPOOL_TEST_DB"
	// crashExit is the child's exit code when it died as planned, so that a
	// failure (exit 1, or 2 for a panic) is not mistaken for the crash.
	crashExit = 7
)

// runChild is the child process; its result is the exit code.
func runChild(mode string) int {
	dir := os.Getenv(childDirEnv)
	count, err := strconv.Atoi(os.Getenv(childCountEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child count:", err)
		return 1
	}
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 1
	}
	// No Close and no defer anywhere below: the process ends by os.Exit
	// with the spool open, as a crash would leave it.
	switch mode {
	case "append":
		for i := range count {
			if err := s.AppendObjection(testObjection(i)); err != nil {
				fmt.Fprintln(os.Stderr, "child append:", err)
				return 1
			}
		}
		return crashExit
	case "append-until-killed":
		out := bufio.NewWriter(os.Stdout)
		for i := 0; ; i++ {
			if err := s.AppendObjection(testObjection(i)); err != nil {
				fmt.Fprintln(os.Stderr, "child append:", err)
				return 1
			}
			// The acknowledgement: what the caller would hear.
			fmt.Fprintln(out, i)
			if err := out.Flush(); err != nil {
				return 1
			}
		}
	case "replay-crash":
		ctx := context.Background()
		store, err := sqlite.Open(ctx, os.Getenv(childDBEnv))
		if err != nil {
			fmt.Fprintln(os.Stderr, "child store:", err)
			return 1
		}
		t := &crashTarget{Target: store, left: count}
		if _, err := s.Replay(ctx, t); err != nil {
			fmt.Fprintln(os.Stderr, "child replay:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "child replay ended before the planned crash")
		return 1
	}
	fmt.Fprintln(os.Stderr, "unknown child mode", mode)
	return 1
}

// crashTarget passes entries to a store and ends the process right after
// the store committed the left-th one: before the spool could mark it done.
type crashTarget struct {
	Target
	left int
}

func (c *crashTarget) RecordObjection(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	rec, created, err := c.Target.RecordObjection(ctx, o)
	if c.left--; c.left == 0 {
		os.Exit(crashExit)
	}
	return rec, created, err
}

// child returns the command that runs the test binary as a child in mode.
func child(t *testing.T, mode, dir string, count int, extraEnv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childModeEnv+"="+mode, childDirEnv+"="+dir, childCountEnv+"="+strconv.Itoa(count))
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

func wantCrash(t *testing.T, err error, stderr []byte) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != crashExit {
		t.Fatalf("child: %v, want exit %d; stderr:\n%s", err, crashExit, stderr)
	}
}

func TestCrashAfterAppend(t *testing.T) {
	const n = 50
	dir := t.TempDir()
	var stderr bytes.Buffer
	cmd := child(t, "append", dir, n)
	cmd.Stderr = &stderr
	wantCrash(t, cmd.Run(), stderr.Bytes())

	s := mustOpen(t, dir) // the dead child's lock went with it
	if got := s.Pending(); got != n {
		t.Fatalf("Pending after the child died = %d, want %d", got, n)
	}
	tgt := &fakeTarget{}
	if _, err := s.Replay(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(tgt.objections), wantKeys(0, n); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
}

func TestKilledWhileAppending(t *testing.T) {
	// SIGKILL at an arbitrary moment: every append the child acknowledged
	// is there after it (and the ones it made while the kill was on its way,
	// but no torn one).
	const acks = 200
	dir := t.TempDir()
	var stderr bytes.Buffer
	cmd := child(t, "append-until-killed", dir, 0)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	acked := 0
	for acked < acks && sc.Scan() {
		if sc.Text() != strconv.Itoa(acked) {
			t.Errorf("child acknowledged %q, want %d", sc.Text(), acked)
		}
		acked++
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if acked < acks {
		t.Fatalf("child acknowledged only %d appends; stderr:\n%s", acked, stderr.Bytes())
	}

	s := mustOpen(t, dir)
	got := s.Pending()
	if got < acked {
		t.Fatalf("Pending = %d after %d acknowledged appends", got, acked)
	}
	tgt := &fakeTarget{}
	if _, err := s.Replay(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	if keys := keysOf(tgt.objections); !reflect.DeepEqual(keys, wantKeys(0, got)) {
		t.Errorf("replayed %d entries, not key-0 … key-%d in order", len(keys), got-1)
	}
}
