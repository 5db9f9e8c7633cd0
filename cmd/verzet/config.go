package main

import (
	"flag"
	"path/filepath"
	"strconv"
	"strings"

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

// Config is verzet's configuration, read once from VERZET_* variables and
// flags, validated, then passed down as values.
type Config struct {
	DatabaseURL   string // VERZET_DATABASE_URL; empty: embedded SQLite
	DataDir       string // VERZET_DATA_DIR
	HTTPAddr      string // VERZET_HTTP_ADDR
	DefaultOrg    string // VERZET_DEFAULT_ORG
	DefaultRegion string // VERZET_DEFAULT_REGION
	RelationTerm  int    // VERZET_RELATION_TERM, in months
	LogFormat     string // VERZET_LOG_FORMAT: json, console or auto
	PromptsDir    string // VERZET_PROMPTS_DIR: override texts and audio
	NoMigrate     bool   // --no-migrate

	// Twilio (twilio.go).
	TwilioAuthToken  string // VERZET_TWILIO_AUTH_TOKEN; comma-separated during a rotation
	PublicURL        string // VERZET_PUBLIC_URL: the base URL as Twilio requests it
	TwilioTTS        string // VERZET_TWILIO_TTS: voices for <Say>
	TwilioAccountSID string // VERZET_TWILIO_ACCOUNT_SID, for the REST API
	TwilioAPIKey     string // VERZET_TWILIO_API_KEY
	TwilioAPISecret  string // VERZET_TWILIO_API_SECRET
	TwilioAPIURL     string // VERZET_TWILIO_API_URL: the REST API's base URL, when not Twilio's
	Demo             bool   // serve --demo: Twilio webhooks with a local token

	// API and webhooks (api.go).
	WebhookURLs       string // VERZET_WEBHOOK_URLS, comma-separated
	WebhookSecret     string // VERZET_WEBHOOK_SECRET
	APIRate           string // VERZET_API_RATE: requests per second per token
	APIBurst          string // VERZET_API_BURST
	APIBodyLimit      string // VERZET_API_BODY_LIMIT
	APIStreamLimit    string // VERZET_API_STREAM_LIMIT
	APITokenTTL       string // VERZET_API_TOKEN_TTL
	APICheckFlights   string // VERZET_API_CHECK_FLIGHTS
	DecisionRetention string // VERZET_DECISION_RETENTION

	// Asterisk (ari.go).
	ARIURL      string // VERZET_ARI_URL: ARI base URLs, comma-separated
	ARIUser     string // VERZET_ARI_USER
	ARIPassword string // VERZET_ARI_PASSWORD
	ARIApp      string // VERZET_ARI_APP: Stasis application name
	ARIMediaURL string // VERZET_ARI_MEDIA_URL: verzet's base URL for HTTP prompt audio

	// Supervisor UI (ui.go).
	UIBcryptCost string // VERZET_UI_BCRYPT_COST
}

// setting documents one configuration variable; serve --help lists them.
type setting struct {
	env, flag, def, help string
	dst                  *string
}

func (c *Config) settings() []setting {
	return []setting{
		{"VERZET_DATABASE_URL", "database-url", "", "PostgreSQL URL (postgres://…); empty uses the embedded SQLite store in the data dir", &c.DatabaseURL},
		{"VERZET_DATA_DIR", "data-dir", "./data", "folder for the embedded store (verzet.db) and the key-press spool", &c.DataDir},
		{"VERZET_HTTP_ADDR", "http-addr", ":8080", "address the HTTP server listens on", &c.HTTPAddr},
		{"VERZET_DEFAULT_ORG", "default-org", "", "org used when a request or command names none", &c.DefaultOrg},
		{"VERZET_DEFAULT_REGION", "default-region", "NL", "ISO region for numbers written without country code", &c.DefaultRegion},
		{"VERZET_PROMPTS_DIR", "prompts-dir", "", "folder overriding prompt texts and audio ({lang}/{id}.txt, .wav; org/{org}.wav); checked at start-up", &c.PromptsDir},
		{"VERZET_LOG_FORMAT", "log-format", "auto", "json, console, or auto (console on a terminal, json otherwise)", &c.LogFormat},
	}
}

// allSettings are the core settings followed by every feature's.
func (c *Config) allSettings() []setting {
	all := c.settings()
	for _, f := range features() {
		if f.settings != nil {
			all = append(all, f.settings(c)...)
		}
	}
	return all
}

// relationTermSetting is parsed separately because it is a number.
const relationTermHelp = "default customer-relation term for new orgs: months (36), or 36m / 3y; over 36 needs a justification per org"

// bindConfig registers the configuration flags on fs, with defaults from env.
// It returns a function that validates the result after fs.Parse.
func bindConfig(fs *flag.FlagSet, env Env) (*Config, func() error) {
	c := &Config{}
	var secrets []setting
	for _, s := range c.allSettings() {
		def := s.def
		if v, ok := env[s.env]; ok && v != "" {
			if isSecret(s.env) {
				// Taken after parsing, so that --help never prints it.
				secrets = append(secrets, s)
			} else {
				def = v
			}
		}
		fs.StringVar(s.dst, s.flag, def, s.help+" ["+s.env+"]")
	}
	term := env["VERZET_RELATION_TERM"]
	if term == "" {
		term = "36"
	}
	fs.Func("relation-term", relationTermHelp+" [VERZET_RELATION_TERM] (default 36)", func(v string) error {
		term = v
		return nil
	})
	fs.BoolVar(&c.NoMigrate, "no-migrate", false, "do not apply schema migrations at start-up")
	fs.BoolVar(&c.Demo, "demo", false, "serve: turn on the Twilio webhooks with a local token kept in the data dir, and print the verzet simulate twilio command to try them")
	return c, func() error {
		for _, s := range secrets {
			if *s.dst == "" {
				*s.dst = env[s.env]
			}
		}
		m, err := parseTerm(term)
		if err != nil {
			return err
		}
		c.RelationTerm = m
		if _, err := objections.NewNumbers(c.DefaultRegion); err != nil {
			return &objections.Error{Code: objections.EINVALID, Field: "VERZET_DEFAULT_REGION", Value: c.DefaultRegion, Message: "is not a supported ISO region code"}
		}
		c.DefaultRegion = strings.ToUpper(c.DefaultRegion)
		if c.DefaultOrg != "" {
			c.DefaultOrg = strings.ToLower(c.DefaultOrg)
			if err := objections.ValidateOrgID(c.DefaultOrg); err != nil {
				return &objections.Error{Code: objections.EINVALID, Field: "VERZET_DEFAULT_ORG", Value: c.DefaultOrg, Message: "may hold only lower-case letters, digits, '.', '-' and '_'"}
			}
		}
		switch c.LogFormat {
		case "auto", "json", "console":
		default:
			return &objections.Error{Code: objections.EINVALID, Field: "VERZET_LOG_FORMAT", Value: c.LogFormat, Message: "must be auto, json or console"}
		}
		if c.DataDir == "" {
			c.DataDir = "./data"
		}
		return nil
	}
}

// parseTerm reads a relation term: "36", "36m" or "3y".
func parseTerm(s string) (int, error) {
	in := strings.TrimSpace(strings.ToLower(s))
	mult := 1
	switch {
	case strings.HasSuffix(in, "y"):
		in, mult = strings.TrimSuffix(in, "y"), 12
	case strings.HasSuffix(in, "m"):
		in = strings.TrimSuffix(in, "m")
	}
	n, err := strconv.Atoi(in)
	if err != nil || n <= 0 || n*mult > 240 {
		return 0, &objections.Error{Code: objections.EINVALID, Field: "VERZET_RELATION_TERM", Value: s, Message: "must be a number of months (1–240) such as 36, 36m or 3y"}
	}
	return n * mult, nil
}

// SQLitePath is where the embedded store lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "verzet.db") }

// StoreName describes the store for logs without secrets.
func (c Config) StoreName() string {
	if c.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func (c Config) org(flagValue string) (string, error) {
	org := flagValue
	if org == "" {
		org = c.DefaultOrg
	}
	if org == "" {
		return "", &objections.Error{Code: objections.EINVALID, Field: "org", Value: "", Message: "is required: pass --org or set VERZET_DEFAULT_ORG"}
	}
	return org, nil
}

// isSecret reports whether a setting holds a password, token or credentials,
// which --help must not print as a default.
func isSecret(env string) bool {
	switch env {
	case "VERZET_DATABASE_URL", "VERZET_TWILIO_AUTH_TOKEN", "VERZET_TWILIO_API_SECRET", "VERZET_TWILIO_API_KEY",
		"VERZET_ARI_PASSWORD", "VERZET_WEBHOOK_SECRET":
		return true
	}
	return false
}
