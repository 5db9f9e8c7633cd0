package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/verzet/verzet/objections"
)

//go:generate go run . help settings --readme ../../README.md

// Command groups of `verzet --help`.
const (
	groupRegister  = "register"
	groupServer    = "server"
	groupTelephony = "telephony"
	groupAccess    = "access"
)

// root builds the command tree.
func (a *App) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "verzet",
		Short: "The right to object to telemarketing, offered after every call and honoured at once",
		Long: `verzet — the right to object to telemarketing, offered after every call and honoured at once.

One binary: the server (serve), the register's command line (check, objections, offers,
orgs, verify), its backups and moves (backup, copy), access (tokens, users) and the
telephony tools (twilio, simulate).
Commands read the store that VERZET_DATA_DIR or VERZET_DATABASE_URL names, and only
serve, migrate and init create one.`,
		Version:                    version(),
		SilenceErrors:              true,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &flagError{cmd: c, err: err} })
	root.SetUsageFunc(usage)
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { help(c) })
	root.AddGroup(
		&cobra.Group{ID: groupRegister, Title: "The register:"},
		&cobra.Group{ID: groupServer, Title: "Running verzet:"},
		&cobra.Group{ID: groupTelephony, Title: "Telephony:"},
		&cobra.Group{ID: groupAccess, Title: "Access:"},
	)
	root.SetHelpCommand(a.helpCmd(root))
	root.SetHelpCommandGroupID(groupServer)
	root.SetCompletionCommandGroupID(groupServer)
	for _, c := range []*cobra.Command{
		a.checkCmd(), a.objectionsCmd(), a.offersCmd(), a.orgsCmd(), a.verifyCmd(),
		a.serveCmd(), a.probeCmd(), a.initCmd(), a.migrateCmd(), a.backupCmd(), a.copyCmd(), a.promptsCmd(), a.versionCmd(),
		a.twilioCmd(), a.simulateCmd(),
		a.tokensCmd(), a.usersCmd(),
		environmentTopic(), settingsTopic(),
	} {
		root.AddCommand(c)
	}
	return root
}

// run finishes cmd: its RunE loads the binding's configuration, then
// runs f, whose exit code Main returns. The variables cmd reads without a
// flag are named at the end of its Long.
func (a *App) run(cmd *cobra.Command, b *binding, f func(ctx context.Context, args []string) (int, error)) *cobra.Command {
	if names := b.envNames(); len(names) > 0 {
		cmd.Long += "\n\nAlso reads " + strings.Join(names, ", ") + " (see 'verzet help environment')."
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if err := b.load(); err != nil {
			return err
		}
		code, err := f(c.Context(), args)
		a.code = code
		return err
	}
	return cmd
}

// storeBinding binds the store, with --data-dir and --database-url.
// Commands add the sections they use beyond it.
func (a *App) storeBinding(cmd *cobra.Command, cfg *Config) *binding {
	return newBinding(a.env, cmd.Flags()).flags(&cfg.Store)
}

// group builds a command that only holds subcommands. Run without one, or
// with an unknown one, it names them and exits 2.
func group(use, short, long, groupID string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: use, Short: short, Long: long, GroupID: groupID, Args: cobra.ArbitraryArgs, SuggestionsMinimumDistance: 2}
	var names []string
	for _, s := range subs {
		g.AddCommand(s)
		names = append(names, s.Name())
	}
	g.RunE = func(c *cobra.Command, args []string) error {
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		return objections.Invalid("subcommand", sub, "must be one of %s%s; run '%s --help'", strings.Join(names, ", "),
			didYouMean(c.SuggestionsFor(sub)), c.CommandPath())
	}
	return g
}

// flagError is a wrong flag: unknown, missing its value, or a bad value.
type flagError struct {
	cmd *cobra.Command
	err error
}

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// message is the pflag error, with the closest flag for an unknown one.
func (e *flagError) message() string {
	var ne *pflag.NotExistError
	if !errors.As(e.err, &ne) {
		return e.err.Error()
	}
	name := ne.GetSpecifiedName()
	if sh := ne.GetSpecifiedShortnames(); sh != "" {
		// -org: a Go-style single dash.
		if f := e.cmd.Flags().Lookup(sh); f != nil {
			return fmt.Sprintf("unknown flag -%s (did you mean --%s?)", sh, sh)
		}
		return e.err.Error()
	}
	var names []string
	e.cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	msg := "unknown flag --" + name
	if near := objections.Closest(name, names); len(near) > 0 {
		msg += " (did you mean --" + strings.Join(near, " or --") + "?)"
	}
	return msg
}

// usage prints a command's usage: how to call it, examples, its flags or
// its commands.
func usage(c *cobra.Command) error {
	w := c.OutOrStdout()
	fmt.Fprint(w, "Usage:\n")
	switch {
	case c.HasAvailableSubCommands():
		fmt.Fprintf(w, "  %s COMMAND [flags]\n", c.CommandPath())
	case c.Runnable():
		fmt.Fprintf(w, "  %s\n", strings.TrimSuffix(c.UseLine(), " [flags]")+flagsHint(c))
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	if c.HasAvailableSubCommands() {
		printCommands(w, c)
	}
	if c.HasAvailableLocalFlags() {
		printFlags(w, c.LocalFlags())
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\nGlobal flags:\n%s", c.InheritedFlags().FlagUsagesWrapped(100))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags and examples.\n", c.CommandPath())
	}
	return nil
}

// printFlags lists the command's own flags, then its settings' flags by
// section.
func printFlags(w io.Writer, fs *pflag.FlagSet) {
	groups := map[string]*pflag.FlagSet{}
	fs.VisitAll(func(f *pflag.Flag) {
		title := "Flags"
		if t := f.Annotations[sectionAnnotation]; len(t) > 0 {
			title = t[0] + " settings"
		}
		if groups[title] == nil {
			groups[title] = pflag.NewFlagSet(title, pflag.ContinueOnError)
		}
		groups[title].AddFlag(f)
	})
	titles := []string{"Flags"}
	for _, s := range (&Config{}).sections() {
		t, _ := s.about()
		titles = append(titles, t+" settings")
	}
	for _, t := range titles {
		if g := groups[t]; g != nil && g.HasAvailableFlags() {
			fmt.Fprintf(w, "\n%s:\n%s", t, g.FlagUsagesWrapped(100))
		}
	}
}

func flagsHint(c *cobra.Command) string {
	if c.HasAvailableLocalFlags() {
		return " [flags]"
	}
	return ""
}

// printCommands lists c's subcommands, by group when c has groups.
func printCommands(w io.Writer, c *cobra.Command) {
	pad := 0
	for _, s := range c.Commands() {
		pad = max(pad, len(s.Name()))
	}
	line := func(s *cobra.Command) { fmt.Fprintf(w, "  %-*s  %s\n", pad, s.Name(), s.Short) }
	shown := func(s *cobra.Command) bool { return s.IsAvailableCommand() || s.Name() == "help" }
	if len(c.Groups()) == 0 {
		fmt.Fprint(w, "\nCommands:\n")
		for _, s := range c.Commands() {
			if shown(s) {
				line(s)
			}
		}
	}
	for _, g := range c.Groups() {
		fmt.Fprintf(w, "\n%s\n", g.Title)
		for _, s := range c.Commands() {
			if s.GroupID == g.ID && shown(s) {
				line(s)
			}
		}
	}
	var topics []*cobra.Command
	for _, s := range c.Commands() {
		if s.IsAdditionalHelpTopicCommand() {
			topics = append(topics, s)
		}
	}
	if len(topics) > 0 {
		fmt.Fprint(w, "\nHelp topics:\n")
		for _, s := range topics {
			fmt.Fprintf(w, "  %-*s  %s\n", pad+5, "help "+s.Name(), s.Short)
		}
	}
}

// help prints a command's Long (or Short) and its usage.
func help(c *cobra.Command) {
	w := c.OutOrStdout()
	text := c.Long
	if text == "" {
		text = c.Short
	}
	fmt.Fprintln(w, strings.TrimRight(text, "\n"))
	if c.Runnable() || c.HasSubCommands() {
		fmt.Fprintln(w)
		_ = usage(c)
	}
}

// helpCmd is `verzet help [COMMAND|TOPIC]`. An unknown topic is an error
// (exit 2) naming the closest ones. `help settings --markdown` prints the
// README's settings table; --readme FILE rewrites it in FILE (go generate).
func (a *App) helpCmd(root *cobra.Command) *cobra.Command {
	var markdown bool
	var readme string
	c := &cobra.Command{
		Use:   "help [COMMAND|TOPIC]",
		Short: "Help about a command or topic (environment, settings)",
		Long:  "Help about a command, or a topic: 'verzet help environment', 'verzet help settings'.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || target == nil {
				name := strings.Join(args, " ")
				var near []string
				if len(args) > 0 {
					var names []string
					for _, c := range root.Commands() {
						names = append(names, c.Name())
					}
					near = objections.Closest(args[len(args)-1], names)
				}
				return objections.Invalid("topic", name, "is no command or help topic%s; run 'verzet help'", didYouMean(near))
			}
			if markdown || readme != "" {
				if target.Name() != "settings" {
					return objections.Invalid("topic", target.Name(), "--markdown and --readme apply to 'verzet help settings' only")
				}
				if readme != "" {
					return writeREADMESettings(readme)
				}
				_, err := fmt.Fprint(a.stdout, settingsMarkdown())
				return err
			}
			target.InitDefaultHelpFlag()
			help(target)
			return nil
		},
	}
	c.Flags().BoolVar(&markdown, "markdown", false, "print the settings as the README's Markdown table")
	c.Flags().StringVar(&readme, "readme", "", "rewrite the settings table in this README (between its markers)")
	_ = c.Flags().MarkHidden("markdown")
	_ = c.Flags().MarkHidden("readme")
	return c
}

// environmentTopic is `verzet help environment`.
func environmentTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "environment",
		Short: "The VERZET_* variables every command reads",
		Long: `Settings are VERZET_* environment variables. A command that uses a setting directly has a
flag of the same name (VERZET_DATA_DIR and --data-dir); the flag wins over the variable.
'verzet serve --help' lists the server's settings; 'verzet help settings' lists all of them.

Where the register is (every command that reads or writes it; only serve, migrate and
init create a store — the others refuse one that does not exist, and say where they looked):

  VERZET_DATA_DIR        folder of the embedded SQLite store (verzet.db) and the spool.
                         Default ./data, relative to the current folder: give commands the
                         same folder as the server (an absolute path is safest).
  VERZET_DATABASE_URL    PostgreSQL instead of the embedded store:
                         postgres://user:pass@host:5432/db or host=… dbname=… key=value pairs.

Defaults for what you type (read by every command that reads numbers or names an org):

  VERZET_DEFAULT_REGION  region of numbers written without a country code (NL: 06 1234 5678).
  VERZET_DEFAULT_ORG     org used when --org is not given; it must be an org the store knows.
  VERZET_RELATION_TERM   customer-relation term of new orgs (orgs set): 36, 36m or 3y.

Prompts (serve, prompts, and the commands that take --lang):

  VERZET_PROMPTS_DIR     folder overriding the embedded prompt texts and audio.`,
	}
}

// settingsTopic is `verzet help settings`: every setting, generated.
func settingsTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "settings",
		Short: "Every VERZET_* setting, its flag, default and meaning",
		Long:  settingsText(),
	}
}

// versionCmd is `verzet version`.
func (a *App) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print verzet's version, commit and Go version",
		Long:    "Prints the module version, the commit (vcs revision and time) the binary was built from, and the Go version.",
		Example: "  verzet version",
		GroupID: groupServer,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(a.stdout, version())
			return err
		},
	}
}

// releaseVersion, when set at build time (go build -ldflags
// "-X main.releaseVersion=v1.4.0"), names a build made without module or
// VCS information, such as one from a source tarball.
var releaseVersion string

// version describes the build from debug.ReadBuildInfo.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "verzet (no build information)"
	}
	v := bi.Main.Version
	if releaseVersion != "" {
		v = releaseVersion
	}
	if v == "" {
		v = "(devel)"
	}
	s := map[string]string{}
	for _, kv := range bi.Settings {
		s[kv.Key] = kv.Value
	}
	rev := s["vcs.revision"]
	switch {
	case rev == "":
		rev = "unknown (built without VCS information)"
	case s["vcs.modified"] == "true":
		rev += " (modified)"
	}
	when := s["vcs.time"]
	if when == "" {
		when = "unknown"
	}
	return fmt.Sprintf("verzet %s\n  commit   %s\n  time     %s\n  go       %s %s/%s", v, rev, when, bi.GoVersion, s["GOOS"], s["GOARCH"])
}

// README markers around the generated settings table.
const (
	readmeBegin = "<!-- BEGIN SETTINGS: generated by `go generate ./cmd/verzet` from cmd/verzet/sections.go; do not edit -->"
	readmeEnd   = "<!-- END SETTINGS -->"
)

// readmeSettings returns the README's text between the markers.
func readmeSettings(readme string) (before, table, after string, err error) {
	i := strings.Index(readme, readmeBegin)
	j := strings.Index(readme, readmeEnd)
	if i < 0 || j < i {
		return "", "", "", fmt.Errorf("the README has no %q … %q markers", readmeBegin, readmeEnd)
	}
	return readme[:i+len(readmeBegin)], readme[i+len(readmeBegin) : j], readme[j:], nil
}

// writeREADMESettings rewrites the settings table between the markers.
func writeREADMESettings(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, _, after, err := readmeSettings(string(b))
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(before+"\n\n"+settingsMarkdown()+"\n"+after), 0o644)
}
