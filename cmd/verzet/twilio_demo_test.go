package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// serve --demo with a real Twilio auth token still needs VERZET_PUBLIC_URL:
// without it, signatures would be checked against the request's Host
// header, which the caller chooses.
func TestTwilioDemoWithTokenNeedsPublicURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--demo")
	cmd.Env = append(os.Environ(), "VERZET_DATA_DIR="+t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_PUBLIC_URL=",
		"VERZET_HTTP_ADDR=127.0.0.1:0", "VERZET_TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	_ = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); ctx.Err() != nil || code != 2 || !strings.Contains(errOut.String(), "VERZET_PUBLIC_URL") {
		t.Fatalf("exit %d (%v), stderr %q; want 2 naming VERZET_PUBLIC_URL", code, ctx.Err(), errOut.String())
	}
}
