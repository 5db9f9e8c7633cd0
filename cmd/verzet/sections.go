package main

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/httpapi"
	"github.com/verzet/verzet/objections/review"
	"github.com/verzet/verzet/telephony/twilio"
)

// This file is the one definition of verzet's settings. Each section
// parses its variables into typed fields; the README's settings table is
// generated from it (go generate ./cmd/verzet).

// StoreConfig says where the register is kept.
type StoreConfig struct {
	DatabaseURL string // empty: the embedded SQLite store in DataDir
	DataDir     string

	databaseURLFrom, dataDirFrom origin
}

func (*StoreConfig) about() (string, string) {
	return "Store", "every command that reads or writes the register"
}

func (c *StoreConfig) settings() []setting {
	return []setting{
		{env: "VERZET_DATABASE_URL", flag: "database-url", secret: true, from: &c.databaseURLFrom,
			help: "PostgreSQL URL (postgres://user:pass@host:5432/db) or key=value string; empty uses the embedded SQLite store in the data dir",
			parse: func(v string) error {
				c.DatabaseURL = strings.TrimSpace(v)
				return checkDatabaseURL(c.DatabaseURL)
			}},
		{env: "VERZET_DATA_DIR", flag: "data-dir", def: "./data", from: &c.dataDirFrom,
			help: "folder of the embedded store (verzet.db) and the key-press spool; only serve, migrate and init create it",
			parse: func(v string) error {
				c.DataDir = v
				if strings.TrimSpace(v) == "" {
					c.DataDir = "./data"
				}
				return nil
			}},
	}
}

func (*StoreConfig) check() error { return nil }

// NumbersConfig is how numbers written without a country code are read.
type NumbersConfig struct {
	Region string // ISO region, upper case
}

func (*NumbersConfig) about() (string, string) {
	return "Numbers", "every command that reads a phone number"
}

func (c *NumbersConfig) settings() []setting {
	return []setting{
		{env: "VERZET_DEFAULT_REGION", flag: "default-region", def: "NL",
			help: "ISO region for numbers written without a country code (06 1234 5678)",
			parse: func(v string) error {
				c.Region = strings.ToUpper(strings.TrimSpace(v))
				if _, err := objections.NewNumbers(c.Region); err != nil {
					return invalidf("is not a supported ISO region code")
				}
				return nil
			}},
	}
}

func (*NumbersConfig) check() error { return nil }

// OrgsConfig holds the defaults for organisations.
type OrgsConfig struct {
	Default            string // used when a request or command names no org
	RelationTermMonths int    // for new orgs
}

func (*OrgsConfig) about() (string, string) {
	return "Organisations", "every command that names an org"
}

func (c *OrgsConfig) settings() []setting {
	return []setting{
		{env: "VERZET_DEFAULT_ORG", flag: "default-org",
			help: "org used when a request or command names none; on the command line it must be an org the store knows",
			parse: func(v string) error {
				c.Default = strings.ToLower(strings.TrimSpace(v))
				if c.Default != "" && objections.ValidateOrgID(c.Default) != nil {
					return invalidf("may hold only lower-case letters, digits, '.', '-' and '_'")
				}
				return nil
			}},
		{env: "VERZET_RELATION_TERM", flag: "relation-term", def: "36",
			help: "default customer-relation term for new orgs: months (36), or 36m / 3y; over 36 needs a justification per org",
			parse: func(v string) error {
				m, err := parseTerm(v)
				c.RelationTermMonths = m
				return err
			}},
	}
}

func (*OrgsConfig) check() error { return nil }

// org returns the org a command works on: the flag, else the default.
func (c OrgsConfig) org(flagValue string) (string, error) {
	org := strings.ToLower(strings.TrimSpace(flagValue))
	if org == "" {
		org = c.Default
	}
	if org == "" {
		return "", &objections.Error{Code: objections.EINVALID, Field: "org", Value: "", Message: "is required: pass --org or set VERZET_DEFAULT_ORG"}
	}
	return org, objections.ValidateOrgID(org)
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
		return 0, invalidf("must be a number of months (1–240) such as 36, 36m or 3y")
	}
	return n * mult, nil
}

// PromptsConfig overrides the embedded prompt catalogue.
type PromptsConfig struct {
	Dir string
}

func (*PromptsConfig) about() (string, string) {
	return "Prompts", "serve, prompts, and the commands that take --lang"
}

func (c *PromptsConfig) settings() []setting {
	return []setting{
		{env: "VERZET_PROMPTS_DIR", flag: "prompts-dir",
			help:  "folder overriding prompt texts and audio ({lang}/{id}.txt and .wav, org/{org}.wav); a missing prompt is an error at start-up",
			parse: func(v string) error { c.Dir = strings.TrimSpace(v); return nil }},
	}
}

func (*PromptsConfig) check() error { return nil }

// LogConfig is the format of serve's logs.
type LogConfig struct {
	Format string // auto, json or console
}

func (*LogConfig) about() (string, string) { return "Logs", "serve" }

func (c *LogConfig) settings() []setting {
	return []setting{
		{env: "VERZET_LOG_FORMAT", flag: "log-format", def: "auto",
			help: "json, console, or auto (console on a terminal, json otherwise)",
			parse: func(v string) error {
				c.Format = v
				switch v {
				case "auto", "json", "console":
					return nil
				}
				return invalidf("must be auto, json or console")
			}},
	}
}

func (*LogConfig) check() error { return nil }

// HTTPConfig is where and how serve listens (listen.go, proxy.go).
type HTTPConfig struct {
	Addr           string
	TLSCert        string // PEM files; both or neither
	TLSKey         string
	TrustedProxies trustedProxies
	MetricsAddr    string // empty: /metrics on Addr, no pprof
}

func (*HTTPConfig) about() (string, string) { return "HTTP", "serve" }

func (c *HTTPConfig) settings() []setting {
	return []setting{
		{env: "VERZET_HTTP_ADDR", flag: "http-addr", def: ":8080",
			help:  "address the HTTP server listens on (API at /v1/, web UI at /ui/, Twilio webhooks at /twilio/)",
			parse: func(v string) error { c.Addr = v; return nil }},
		{env: "VERZET_TLS_CERT", flag: "tls-cert",
			help:  "PEM certificate file (the chain, leaf first): with VERZET_TLS_KEY the HTTP address serves HTTPS only (TLS 1.2 or newer). Both files are read again within seconds of a change",
			parse: func(v string) error { c.TLSCert = strings.TrimSpace(v); return nil }},
		{env: "VERZET_TLS_KEY", flag: "tls-key",
			help:  "PEM private key file of VERZET_TLS_CERT",
			parse: func(v string) error { c.TLSKey = strings.TrimSpace(v); return nil }},
		{env: "VERZET_TRUSTED_PROXIES", flag: "trusted-proxies",
			help: "comma-separated IPs or CIDR ranges (10.0.0.0/8,::1) of the reverse proxies in front of verzet: only from these are X-Forwarded-For, -Proto and -Host believed; from any other peer they are removed",
			parse: func(v string) (err error) {
				c.TrustedProxies, err = parseTrustedProxies(v)
				return err
			}},
		{env: "VERZET_METRICS_ADDR", flag: "metrics-addr",
			help:  "serve /metrics and /debug/pprof/ on this address only (127.0.0.1:9090), plain HTTP; empty: /metrics on the HTTP address and no pprof",
			parse: func(v string) error { c.MetricsAddr = strings.TrimSpace(v); return nil }},
	}
}

func (c *HTTPConfig) check() error {
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		return objections.Invalid("VERZET_TLS_KEY", "", "is required with VERZET_TLS_CERT: the PEM file of the certificate's private key")
	case c.TLSKey != "" && c.TLSCert == "":
		return objections.Invalid("VERZET_TLS_CERT", "", "is required with VERZET_TLS_KEY: the PEM file of the certificate (chain)")
	}
	return nil
}

// TLS reports whether the HTTP address serves HTTPS.
func (c HTTPConfig) TLS() bool { return c.TLSCert != "" }

// APIConfig tunes the /v1 API.
type APIConfig struct {
	RateLimit         float64 // requests per second per token; negative: none
	RateBurst         int     // 0: the rate
	BodyLimit         int64
	StreamLimit       int64
	CheckFlights      int
	DecisionRetention time.Duration // negative: for ever
	TokenCacheTTL     time.Duration // negative: read every time
}

func (*APIConfig) about() (string, string) {
	return "API", "serve (the /v1 API for dialers and integrators)"
}

func (c *APIConfig) settings() []setting {
	return []setting{
		{env: "VERZET_API_RATE", flag: "api-rate", def: "5000",
			help: "requests per second one API token may make on this instance; 0: no limit",
			parse: func(v string) error {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 {
					return invalidf("must be a number of requests per second, 0 for no limit")
				}
				c.RateLimit = f
				if f == 0 {
					c.RateLimit = -1
				}
				return nil
			}},
		{env: "VERZET_API_BURST", flag: "api-burst",
			help: "requests one API token may make at once (default: the rate)",
			parse: func(v string) error {
				c.RateBurst = 0
				if v == "" {
					return nil
				}
				b, err := strconv.Atoi(v)
				if err != nil || b < 1 {
					return invalidf("must be a whole number of requests, 1 or more")
				}
				c.RateBurst = b
				return nil
			}},
		{env: "VERZET_API_BODY_LIMIT", flag: "api-body-limit", def: "1MiB",
			help:  "largest JSON request body (KiB, MiB, GiB or bytes); 413 beyond",
			parse: func(v string) (err error) { c.BodyLimit, err = parseSize(v); return err }},
		{env: "VERZET_API_STREAM_LIMIT", flag: "api-stream-limit", def: "1GiB",
			help:  "largest scrub list or bulk import body",
			parse: func(v string) (err error) { c.StreamLimit, err = parseSize(v); return err }},
		{env: "VERZET_API_CHECK_FLIGHTS", flag: "api-check-flights", def: "4",
			help: "how many batches of dial-time checks this instance reads from PostgreSQL at once (1-8): checks that arrive while all are busy are read together in the next batch",
			parse: func(v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 1 || n > 8 {
					return invalidf("must be a whole number from 1 to 8")
				}
				c.CheckFlights = n
				return nil
			}},
		{env: "VERZET_DECISION_RETENTION", flag: "decision-retention", def: "5y",
			help: "how long a logged blocked dial-time check is kept: years (5y), days (400d) or hours (72h); 0 keeps them for ever. Daily counts are kept",
			parse: func(v string) error {
				d, err := parseRetention(v)
				if err != nil {
					return invalidf("must be years (5y), days (400d), hours (72h), or 0 to keep for ever")
				}
				c.DecisionRetention = d
				return nil
			}},
		{env: "VERZET_API_TOKEN_TTL", flag: "api-token-ttl", def: "5s",
			help: "how long a checked API token is trusted before it is read again: a token revoked on another instance works here that long; 0 reads it every time",
			parse: func(v string) error {
				d, err := time.ParseDuration(v)
				if v == "0" {
					d, err = 0, nil
				}
				if err != nil || d < 0 {
					return invalidf("must be a duration such as 5s, or 0")
				}
				c.TokenCacheTTL = d
				if d == 0 {
					c.TokenCacheTTL = -1
				}
				return nil
			}},
	}
}

func (*APIConfig) check() error { return nil }

// httpapi returns the API's configuration.
func (c APIConfig) httpapi(defaultOrg string, hooks WebhooksConfig) httpapi.Config {
	return httpapi.Config{DefaultOrg: defaultOrg, RateLimit: c.RateLimit, RateBurst: c.RateBurst, BodyLimit: c.BodyLimit,
		StreamLimit: c.StreamLimit, CheckFlights: c.CheckFlights, DecisionRetention: c.DecisionRetention, TokenCacheTTL: c.TokenCacheTTL,
		Webhooks: httpapi.WebhookConfig{URLs: hooks.URLs, Secret: hooks.Secret}}
}

// parseSize reads 512, 64KiB, 1MiB, 1GiB.
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, invalidf("must be a size such as 1048576, 64KiB, 1MiB or 1GiB")
	}
	return n * mult, nil
}

// WebhooksConfig is where new and voided objections are sent.
type WebhooksConfig struct {
	URLs   []string
	Secret string
}

// minWebhookSecret is the shortest webhook secret accepted.
const minWebhookSecret = 16

func (*WebhooksConfig) about() (string, string) { return "Webhooks", "serve" }

func (c *WebhooksConfig) settings() []setting {
	return []setting{
		{env: "VERZET_WEBHOOK_URLS", flag: "webhook-urls",
			help: "comma-separated URLs that receive every new or voided objection as signed JSON (all instances must share this list)",
			parse: func(v string) error {
				c.URLs = nil
				for _, u := range strings.Split(v, ",") {
					u = strings.TrimSpace(u)
					if u == "" {
						continue
					}
					p, err := url.Parse(u)
					if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
						return objections.Invalid("VERZET_WEBHOOK_URLS", redactedURL(u), "each URL must be absolute http:// or https://")
					}
					c.URLs = append(c.URLs, u)
				}
				return nil
			}},
		{env: "VERZET_WEBHOOK_SECRET", flag: "webhook-secret", secret: true,
			help:  "key of the webhooks' Verzet-Signature (HMAC-SHA256); required with VERZET_WEBHOOK_URLS, at least 16 characters",
			parse: func(v string) error { c.Secret = v; return nil }},
	}
}

func (c *WebhooksConfig) check() error {
	switch {
	case len(c.URLs) == 0:
	case c.Secret == "":
		return objections.Invalid("VERZET_WEBHOOK_SECRET", "", "is required with VERZET_WEBHOOK_URLS: a random key of at least %d characters", minWebhookSecret)
	case len(c.Secret) < minWebhookSecret:
		return objections.Invalid("VERZET_WEBHOOK_SECRET", "", "is too short (%d characters; at least %d)", len(c.Secret), minWebhookSecret)
	}
	return nil
}

// TwilioConfig turns on the Twilio webhooks and reaches Twilio's REST API.
type TwilioConfig struct {
	AuthTokens []string // the first signs; all are accepted (rotation)
	PublicURL  string   // normalised, without a trailing slash
	Voices     map[string]twilio.Voice
	VoicesRaw  string
	AccountSID string
	APIKey     string
	APISecret  string
	APIURL     string // REST API base when not Twilio's
}

func (*TwilioConfig) about() (string, string) {
	return "Twilio", "serve, twilio handoff, simulate twilio"
}

func (c *TwilioConfig) settings() []setting {
	return []setting{
		{env: "VERZET_TWILIO_AUTH_TOKEN", flag: "twilio-auth-token", secret: true,
			help:  "Twilio auth token (two, comma-separated, during a rotation); turns on the /twilio/ webhooks, which answer 404 without it. Prefer the variable: flags show in ps",
			parse: func(v string) error { c.AuthTokens = splitTokens(v); return nil }},
		{env: "VERZET_PUBLIC_URL", flag: "public-url",
			help: "verzet's base URL as Twilio requests it (https://ivr.example.nl); webhook signatures are checked against it",
			parse: func(v string) (err error) {
				c.PublicURL = ""
				if v != "" {
					c.PublicURL, err = twilio.ParsePublicURL(v)
				}
				return err
			}},
		{env: "VERZET_TWILIO_TTS", flag: "twilio-tts",
			help: "speak the prompts with Twilio's <Say> instead of playing the catalogue audio: a voice (Polly.Lotte) or lang=voice pairs (nl=Polly.Lotte,en=Polly.Amy)",
			parse: func(v string) (err error) {
				c.VoicesRaw = v
				c.Voices, err = twilio.ParseVoices(v)
				return err
			}},
		{env: "VERZET_TWILIO_ACCOUNT_SID", flag: "twilio-account-sid",
			help:  "Twilio account SID (AC…), for verzet twilio handoff",
			parse: func(v string) error { c.AccountSID = strings.TrimSpace(v); return nil }},
		{env: "VERZET_TWILIO_API_KEY", flag: "twilio-api-key", secret: true,
			help:  "Twilio API key SID (SK…), for the REST API instead of the auth token",
			parse: func(v string) error { c.APIKey = strings.TrimSpace(v); return nil }},
		{env: "VERZET_TWILIO_API_SECRET", flag: "twilio-api-secret", secret: true,
			help:  "the API key's secret",
			parse: func(v string) error { c.APISecret = v; return nil }},
		{env: "VERZET_TWILIO_API_URL", flag: "twilio-api-url",
			help: "base URL of Twilio's REST API when not https://api.twilio.com: a proxy or a mock (the credentials are sent there)",
			parse: func(v string) error {
				c.APIURL = strings.TrimSpace(v)
				if c.APIURL == "" {
					return nil
				}
				u, err := url.Parse(c.APIURL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
					return objections.Invalid("VERZET_TWILIO_API_URL", redactedURL(c.APIURL), "must be an absolute http(s) URL without credentials or query, e.g. https://api.twilio.com")
				}
				return nil
			}},
	}
}

func (*TwilioConfig) check() error { return nil }

// ARIConfig connects the Asterisk adapter.
type ARIConfig struct {
	URLs     []string // empty: no Asterisk
	User     string
	Password string
	App      string
	MediaURL string // verzet's base URL as Asterisk reaches it, no trailing slash
}

func (*ARIConfig) about() (string, string) { return "Asterisk", "serve" }

func (c *ARIConfig) settings() []setting {
	return []setting{
		{env: "VERZET_ARI_URL", flag: "ari-url",
			help: "Asterisk ARI base URLs, comma-separated (http://pbx1:8088/ari,http://pbx2:8088/ari); one connection each. Empty: no Asterisk",
			parse: func(v string) error {
				c.URLs = nil
				for _, u := range strings.Split(v, ",") {
					if u = strings.TrimSpace(u); u == "" {
						continue
					}
					p, err := url.Parse(u)
					if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
						// The value may hold a password: name the setting, not the value.
						return objections.Invalid("VERZET_ARI_URL", "", "must list ARI base URLs such as http://pbx1:8088/ari, without credentials (use VERZET_ARI_USER and VERZET_ARI_PASSWORD)")
					}
					c.URLs = append(c.URLs, u)
				}
				return nil
			}},
		{env: "VERZET_ARI_USER", flag: "ari-user",
			help:  "ari.conf user of the adapter",
			parse: func(v string) error { c.User = v; return nil }},
		{env: "VERZET_ARI_PASSWORD", flag: "ari-password", secret: true,
			help:  "that user's password. Prefer the variable: flags show in ps",
			parse: func(v string) error { c.Password = v; return nil }},
		{env: "VERZET_ARI_APP", flag: "ari-app", def: "verzet",
			help:  "Stasis application name; give every verzet instance its own (a second websocket with the same name takes every call from the first)",
			parse: func(v string) error { c.App = v; return nil }},
		{env: "VERZET_ARI_MEDIA_URL", flag: "ari-media-url",
			help: "play prompts from verzet over HTTP instead of installed sound files: verzet's base URL as Asterisk reaches it (http://verzet:8080); audio is served under /ari/media/",
			parse: func(v string) error {
				c.MediaURL = strings.TrimRight(strings.TrimSpace(v), "/")
				if c.MediaURL == "" {
					return nil
				}
				if u, err := url.Parse(c.MediaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return invalidf("must be verzet's base URL as Asterisk reaches it, e.g. http://verzet:8080")
				}
				return nil
			}},
	}
}

func (c *ARIConfig) check() error {
	if len(c.URLs) > 0 && (c.User == "" || c.Password == "") {
		return objections.Invalid("VERZET_ARI_USER", c.User, "and VERZET_ARI_PASSWORD are both required with VERZET_ARI_URL")
	}
	return nil
}

// UIConfig tunes the supervisors' web UI.
type UIConfig struct {
	BcryptCost int
}

func (*UIConfig) about() (string, string) { return "Web UI", "serve, users" }

func (c *UIConfig) settings() []setting {
	return []setting{
		{env: "VERZET_UI_BCRYPT_COST", flag: "ui-bcrypt-cost", def: strconv.Itoa(review.DefaultBcryptCost),
			help: "bcrypt cost of new web UI passwords (4–31; each step doubles the time, 12 takes about a quarter second)",
			parse: func(v string) error {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < bcrypt.MinCost || n > bcrypt.MaxCost {
					return invalidf("must be a number from %d to %d", bcrypt.MinCost, bcrypt.MaxCost)
				}
				c.BcryptCost = n
				return nil
			}},
	}
}

func (*UIConfig) check() error { return nil }

// redactedURL keeps credentials and query out of error messages.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

func splitTokens(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
