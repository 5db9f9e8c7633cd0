//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: what a person types is written to
// master, the program reads slave.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pts: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// A password typed on a terminal is not echoed: users create asks twice,
// with the terminal's echo off while it reads.
func TestUsersCreateDoesNotEchoThePassword(t *testing.T) {
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_UI_BCRYPT_COST=4"}
	initStore(t, env)
	master, slave := openPTY(t)
	var stdout strings.Builder
	cmd := exec.Command(binary, "users", "create", "--role", "admin", "ada")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stderr, cmd.Stdout = slave, slave, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		screen strings.Builder // what the person sees
	)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	seen := func() string { mu.Lock(); defer mu.Unlock(); return screen.String() }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("waiting for %s; the terminal shows %q", what, seen())
			}
		}
	}
	echoOff := func() bool {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		return err == nil && tio.Lflag&unix.ECHO == 0
	}
	const password = "a passphrase nobody sees"
	for i, prompt := range []string{"New password (not shown): ", "The same again: "} {
		waitFor(fmt.Sprintf("prompt %d", i+1), func() bool { return strings.Count(seen(), prompt) == 1 })
		waitFor("echo off", echoOff)
		if _, err := master.WriteString(password + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("users create: %v\n%s\n%s", err, stdout.String(), seen())
	}
	if !strings.Contains(stdout.String(), "user ada created with role admin") {
		t.Fatalf("stdout %q", stdout.String())
	}
	if strings.Contains(seen(), "passphrase") {
		t.Fatalf("the terminal echoed the password: %q", seen())
	}
	if !strings.Contains(seen(), "The same again") {
		t.Fatalf("the terminal shows %q", seen())
	}
}
