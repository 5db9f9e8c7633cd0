// Command verzet is the one binary of verzet: the server (serve), the
// register's command line (check, objections, offers, orgs, verify) and
// schema migrations (migrate). It is the only place where all packages meet.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], EnvFromList(os.Environ()), os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
