package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/verzet/verzet/objections"
)

// Env is the process environment as a map.
type Env map[string]string

// EnvFromList parses KEY=VALUE pairs.
func EnvFromList(list []string) Env { return Env(nil).with(list) }

func (e Env) with(list []string) Env {
	out := Env{}
	for k, v := range e {
		out[k] = v
	}
	for _, kv := range list {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// Config is verzet's configuration: typed sections, each read from its
// VERZET_* variables (and the flags of the same names where a command has
// them), validated once when loaded, then passed down as values. Every
// setting is defined in sections.go; the README's table and `verzet help
// settings` are generated from those definitions.
type Config struct {
	Store    StoreConfig
	Numbers  NumbersConfig
	Orgs     OrgsConfig
	Log      LogConfig
	Prompts  PromptsConfig
	HTTP     HTTPConfig
	API      APIConfig
	Webhooks WebhooksConfig
	Twilio   TwilioConfig
	ARI      ARIConfig
	UI       UIConfig
}

// section is one typed part of the configuration.
type section interface {
	// about names the section and says who reads it (for the docs).
	about() (title, usedBy string)
	// settings returns the section's settings, bound to its fields.
	settings() []setting
	// check validates the settings together, after each was parsed.
	check() error
}

// sections lists every section in the order the docs show them.
func (c *Config) sections() []section {
	return []section{&c.Store, &c.Numbers, &c.Orgs, &c.Prompts, &c.Log, &c.HTTP, &c.API, &c.Webhooks, &c.Twilio, &c.ARI, &c.UI}
}

// setting is one VERZET_* variable and the flag of the same name.
type setting struct {
	env  string // VERZET_DATA_DIR
	flag string // data-dir
	def  string // the default, as one would type it
	help string
	// secret marks passwords, tokens and credentials: never shown as a
	// default in --help, never quoted in an error.
	secret bool
	// parse checks the value and sets the section's typed field. An error
	// without a field of its own is reported as "VERZET_X "value": error".
	parse func(v string) error
	// from, when set, receives where the value came from (flag, variable
	// or default), for messages such as "in /srv/verzet/verzet.db
	// (VERZET_DATA_DIR)".
	from *origin
}

// origin says where a setting's value came from.
type origin struct {
	env, flag string
	source    int // sourceDefault, sourceEnv or sourceFlag
}

const (
	sourceDefault = iota
	sourceEnv
	sourceFlag
)

// String names the origin: "--data-dir", "VERZET_DATA_DIR", or "the
// default; VERZET_DATA_DIR sets it".
func (o origin) String() string {
	switch o.source {
	case sourceFlag:
		return "--" + o.flag
	case sourceEnv:
		return o.env
	}
	return o.env + " not set: the default"
}

// sectionAnnotation marks a setting's flag with its section's title, by
// which --help groups the flags.
const sectionAnnotation = "verzet_section"

// binding ties sections to one command: some with flags, some read from
// the environment only. load reads and validates them after the command
// line is parsed.
type binding struct {
	env      Env
	fs       *pflag.FlagSet
	sections []section
	items    []bound
}

type bound struct {
	setting
	raw     *string // the flag's value; nil when the setting has no flag here
	flagSet *pflag.FlagSet
}

func newBinding(env Env, fs *pflag.FlagSet) *binding { return &binding{env: env, fs: fs} }

// flags binds s with a flag per setting (only the named variables, when
// given). The flag's default shows the variable's value when it is set
// (never a secret's).
func (b *binding) flags(s section, only ...string) *binding {
	title, _ := s.about()
	for _, st := range b.pick(s, only) {
		def := st.def
		if v := b.env[st.env]; v != "" && !st.secret {
			def = v
		}
		raw := new(string)
		b.fs.StringVar(raw, st.flag, def, st.help+" ["+st.env+"]")
		_ = b.fs.SetAnnotation(st.flag, sectionAnnotation, []string{title}) // the flag was just defined
		b.items = append(b.items, bound{setting: st, raw: raw, flagSet: b.fs})
	}
	return b
}

// envOnly binds s (or only the named variables of s) to the environment
// alone: the command reads them but has no flags for them; `verzet help
// environment` documents them.
func (b *binding) envOnly(s section, only ...string) *binding {
	for _, st := range b.pick(s, only) {
		b.items = append(b.items, bound{setting: st})
	}
	return b
}

// pick returns the settings of s to bind. A section bound whole is checked
// as a whole when loaded.
func (b *binding) pick(s section, only []string) []setting {
	all := s.settings()
	if len(only) == 0 {
		b.sections = append(b.sections, s)
		return all
	}
	var out []setting
	for _, st := range all {
		if slices.Contains(only, st.env) {
			out = append(out, st)
		}
	}
	if len(out) != len(only) {
		panic(fmt.Sprintf("binding names unknown settings: %v", only)) // a programming error, caught by any test
	}
	return out
}

// envNames lists the variables bound without a flag.
func (b *binding) envNames() []string {
	var out []string
	for _, it := range b.items {
		if it.raw == nil {
			out = append(out, it.env)
		}
	}
	return out
}

// load reads every bound setting (flag, else variable, else default),
// parses it and checks each section. Errors name the variable.
func (b *binding) load() error {
	for _, it := range b.items {
		v, src := it.def, sourceDefault
		if ev := b.env[it.env]; ev != "" {
			v, src = ev, sourceEnv
		}
		if it.raw != nil && it.flagSet.Changed(it.flag) {
			v, src = *it.raw, sourceFlag
		}
		if it.from != nil {
			*it.from = origin{env: it.env, flag: it.flag, source: src}
			if it.raw == nil {
				it.from.flag = ""
			}
		}
		if err := it.parse(v); err != nil {
			return settingError(it.setting, v, err)
		}
	}
	for _, s := range b.sections {
		if err := s.check(); err != nil {
			return err
		}
	}
	return nil
}

// settingError names the variable and (unless secret) the value.
func settingError(s setting, v string, err error) error {
	var e *objections.Error
	if errors.As(err, &e) && e.Field != "" {
		return err
	}
	if s.secret {
		v = ""
	}
	return objections.Invalid(s.env, v, "%s", errMessage(err))
}

func errMessage(err error) string {
	var e *objections.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// invalidf is what a parse func returns: the message alone; the binding
// adds the variable and the value.
func invalidf(format string, args ...any) error { return errors.New(fmt.Sprintf(format, args...)) }

// allSettings lists every setting of every section, in docs order.
func allSettings() []setting {
	var out []setting
	for _, s := range (&Config{}).sections() {
		out = append(out, s.settings()...)
	}
	return out
}

// settingsMarkdown is the settings table of the README, one table per
// section, generated from the definitions in sections.go.
func settingsMarkdown() string {
	var b strings.Builder
	for i, s := range (&Config{}).sections() {
		title, usedBy := s.about()
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "**%s** — %s\n\n", title, usedBy)
		b.WriteString("| variable | flag | default | meaning |\n|---|---|---|---|\n")
		for _, st := range s.settings() {
			def := "*(empty)*"
			if st.def != "" {
				def = "`" + st.def + "`"
			}
			fmt.Fprintf(&b, "| `%s` | `--%s` | %s | %s |\n", st.env, st.flag, def, mdEscape.Replace(st.help))
		}
	}
	return b.String()
}

// mdEscape keeps a help text literal in a Markdown table cell.
var mdEscape = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

// settingsText lists every setting for a terminal (`verzet help settings`).
func settingsText() string {
	var b strings.Builder
	b.WriteString("Every setting is a VERZET_* variable, and a flag of the same name on the commands that\n" +
		"use it (flags win). 'verzet serve --help' shows the server's; other commands show theirs.\n")
	for _, s := range (&Config{}).sections() {
		title, usedBy := s.about()
		fmt.Fprintf(&b, "\n%s — %s\n", title, usedBy)
		for _, st := range s.settings() {
			def := ""
			if st.def != "" {
				def = " (default " + st.def + ")"
			}
			fmt.Fprintf(&b, "  %-27s --%s%s\n", st.env, st.flag, def)
			fmt.Fprintf(&b, "      %s\n", wrap(st.help, 86, "      "))
		}
	}
	return b.String()
}

// wrap breaks s into lines of at most width runes, indenting the
// continuation lines.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && n+1+len([]rune(w)) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len([]rune(w))
	}
	return b.String()
}
