package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Exit codes.
const (
	exitOK      = 0
	exitNo      = 1 // check: not callable; verify: chain broken
	exitFailure = 2 // bad input or an error
)

// App is one invocation of the binary.
type App struct {
	env    Env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// code is the exit code the command chose (check: 1, not callable).
	code int
}

// Main runs the command line and returns the exit code. Tests call it as
// the binary does.
func Main(ctx context.Context, args []string, env Env, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &App{env: env, stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.root()
	root.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return a.code
	}
	a.report(cmd, err)
	if a.code == exitOK {
		return exitFailure
	}
	return a.code
}

// report prints a failed command's error on stderr: one line (two for a
// wrong flag or command, with where to look), never the whole usage.
func (a *App) report(cmd *cobra.Command, err error) {
	path := "verzet"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	var fe *flagError
	if errors.As(err, &fe) {
		fmt.Fprintf(a.stderr, "%s: %s\nRun '%s --help' for its flags.\n", path, fe.message(), path)
		return
	}
	if m := unknownCommand.FindStringSubmatch(err.Error()); m != nil && cmd != nil {
		fmt.Fprintf(a.stderr, "%s: unknown command %q%s\nRun '%s --help' for the commands.\n", path, m[1], didYouMean(cmd.SuggestionsFor(m[1])), path)
		return
	}
	fmt.Fprintf(a.stderr, "%s: %s\n", path, objections.ErrorMessage(err))
	if c := objections.ErrorCode(err); c == objections.EINTERNAL || c == objections.EUNAVAILABLE {
		// The cause helps an operator; it holds no customer data.
		fmt.Fprintf(a.stderr, "  cause: %v\n", err)
	}
}

var unknownCommand = regexp.MustCompile(`^unknown command "(.*?)" for`)

// didYouMean formats suggestions: " (did you mean check?)".
func didYouMean(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (did you mean " + strings.Join(names, " or ") + "?)"
}

// logger builds the zap logger: JSON in production, console on a terminal.
func (a *App) logger(cfg LogConfig) *zap.Logger {
	format := cfg.Format
	if format == "auto" {
		format = "json"
		if f, ok := a.stderr.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "console"
			}
		}
	}
	var enc zapcore.Encoder
	if format == "console" {
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc = zapcore.NewConsoleEncoder(ec)
	} else {
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	}
	core := zapcore.NewCore(enc, zapcore.AddSync(a.stderr), zap.InfoLevel)
	return zap.New(core)
}

// register opens the existing store as a register.
func (a *App) register(ctx context.Context, cfg *Config) (*objections.Register, func(), error) {
	s, err := openStore(ctx, cfg.Store, existingStore)
	if err != nil {
		return nil, nil, err
	}
	return s.newRegister(cfg), func() { s.Close() }, nil
}

// scopeOf reads the --org flags of tokens create and users create and
// checks that each org is set up (naming the closest ids for a typo): a
// principal scoped to an org nobody set up would reach nothing.
func scopeOf(ctx context.Context, st objections.Store, flags []string) (access.Scope, error) {
	orgs, err := access.Scope(flags).Normalize()
	if err != nil {
		return nil, err
	}
	reg := objections.NewRegister(st, objections.Numbers{}, nil)
	for _, o := range orgs {
		if _, err := reg.KnownOrg(ctx, "org", o); err != nil {
			return nil, err
		}
	}
	return orgs, nil
}

// parseTime reads --since/--until: RFC 3339, or a date (Europe/Amsterdam).
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, objections.Amsterdam()); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, objections.Invalid(field, v, "must be a date (2026-03-01), an RFC 3339 time, or a duration ago (24h)")
}

func oneOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return objections.Invalid(field, v, "must be one of %s", strings.Join(allowed, ", "))
}

func asChainError(err error, target **objections.ChainError) bool { return errors.As(err, target) }

// scopeColumn shows a scope in a table: its orgs, or "all".
func scopeColumn(s access.Scope) string {
	if s.All() {
		return "all"
	}
	return s.Stored()
}
