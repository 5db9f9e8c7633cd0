package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/verzet/verzet/objections"
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
}

type command struct {
	name, usage, help string
	run               func(ctx context.Context, a *App, args []string) (int, error)
}

func commands() []command {
	return []command{
		{"serve", "serve [flags]", "run the HTTP server", runServe},
		{"migrate", "migrate [flags]", "apply the schema migrations and exit", runMigrate},
		{"check", "check NUMBER [--org ORG] [--person ID]", "print whether ORG may call NUMBER now; exit 0 callable, 1 not callable, 2 error", runCheck},
		{"objections", "objections list|show|record|export …", "list, show, record and export objections", runObjections},
		{"offers", "offers list [--org] [--number] [--since] [--json]", "list offers (evidence that the right to object was offered)", runOffers},
		{"orgs", "orgs set ID --name NAME --sector SECTOR | orgs list", "set up and list organisations", runOrgs},
		{"prompts", "prompts list | prompts install --asterisk-sounds DIR", "list the prompt catalogue; install its audio for Asterisk", runPrompts},
		{"verify", "verify [flags]", "check the hash chain of the event log and name the first broken link", runVerify},
		{"twilio", "twilio handoff CALLSID [--org] [--campaign] [--lang]", "move a live Twilio call into the objection dialogue (REST API)", runTwilio},
		{"simulate", "simulate twilio --url BASE --to NUMBER [--keys 1]", "play Twilio's part in a call to verzet's webhooks; print each TwiML step", runSimulate},
		{"tokens", "tokens create --role ROLE --name NAME | tokens list | tokens revoke ID|NAME", "manage API tokens (the new token is printed once)", runTokens},
		{"users", "users create --role supervisor|admin NAME < password | users list | users password NAME", "manage the users of the web UI (/ui/)", runUsers},
	}
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &App{env: env, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		a.usage(stdout)
		if len(args) == 0 {
			return exitFailure
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		code, err := c.run(ctx, a, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if err != nil {
			fmt.Fprintf(stderr, "verzet %s: %s\n", c.name, objections.ErrorMessage(err))
			if code == exitOK {
				code = exitFailure
			}
			if objections.ErrorCode(err) == objections.EINTERNAL || objections.ErrorCode(err) == objections.EUNAVAILABLE {
				// The cause helps an operator; it holds no customer data.
				fmt.Fprintf(stderr, "  cause: %v\n", err)
			}
		}
		return code
	}
	fmt.Fprintf(stderr, "verzet: unknown command %q\n\n", args[0])
	a.usage(stderr)
	return exitFailure
}

func (a *App) usage(w io.Writer) {
	fmt.Fprintln(w, "verzet — the right to object to telemarketing, offered after every call and honoured at once.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  verzet %-55s %s\n", c.usage, c.help)
	}
	fmt.Fprintln(w, "\nRun 'verzet COMMAND --help' for the flags of a command; 'verzet serve --help' lists every setting.")
}

// flags returns a flag set for a command with the configuration flags bound.
func (a *App) flags(name string) (*flag.FlagSet, *Config, func() error) {
	fs := flag.NewFlagSet("verzet "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	cfg, validate := bindConfig(fs, a.env)
	return fs, cfg, validate
}

// parse parses flags that may come before or after positional arguments
// (`check 0612345678 --org acme`), returning the positional ones.
func parse(fs *flag.FlagSet, args []string, validate func() error) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &objections.Error{Code: objections.EINVALID, Message: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			pos = append(pos, rest[1:]...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, validate()
}

// logger builds the zap logger: JSON in production, console on a terminal.
func (a *App) logger(cfg *Config) (*zap.Logger, error) {
	format := cfg.LogFormat
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
	return zap.New(core), nil
}

func (a *App) register(ctx context.Context, cfg *Config, migrate bool) (*objections.Register, func(), error) {
	s, err := openStores(ctx, cfg, migrate)
	if err != nil {
		return nil, nil, err
	}
	reg, err := s.newRegister(cfg)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return reg, func() { s.Close() }, nil
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

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
