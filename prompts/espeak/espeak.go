// Package espeak speaks text with the espeak-ng speech synthesiser
// (Debian: apt-get install espeak-ng), as prompts/gen does when it renders
// the catalogue: verzet uses it at run time to say an organisation's name
// when no recording of it exists. It runs the espeak-ng program; it imports
// the standard library only and does not log.
package espeak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotInstalled means the espeak-ng program is not on PATH.
var ErrNotInstalled = errors.New("espeak-ng is not installed (Debian: apt-get install espeak-ng)")

// Program is the synthesiser's program name.
const Program = "espeak-ng"

// Speed is the speaking rate in words per minute, the catalogue's (gen).
const Speed = 150

// Available reports whether espeak-ng can be run, and its path.
func Available() (string, bool) {
	p, err := exec.LookPath(Program)
	return p, err == nil
}

// Speak returns text spoken with voice (an espeak-ng voice: the language
// code, "nl" or "en") as a WAV file at the synthesiser's own rate (22050 Hz
// mono 16-bit). ErrNotInstalled when espeak-ng is missing.
func Speak(ctx context.Context, voice, text string) ([]byte, error) {
	if _, ok := Available(); !ok {
		return nil, ErrNotInstalled
	}
	dir, err := os.MkdirTemp("", "verzet-espeak-")
	if err != nil {
		return nil, fmt.Errorf("espeak-ng: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "speech.wav")
	// Text goes in on stdin so that a text starting with "-" is not an
	// option.
	cmd := exec.CommandContext(ctx, Program, "-v", voice, "-s", strconv.Itoa(Speed), "--stdin", "-w", out)
	cmd.Stdin = strings.NewReader(text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("espeak-ng -v %s: %w: %s", voice, err, strings.TrimSpace(stderr.String()))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %w", err)
	}
	return b, nil
}
