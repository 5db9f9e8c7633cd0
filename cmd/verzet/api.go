package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/httpapi"
	"github.com/verzet/verzet/prompts"
)

// apiFeature serves the /v1 API for dialers and integrators
// (objections/httpapi), Prometheus metrics at /metrics, and relays the
// webhooks.
func apiFeature() feature {
	return feature{
		name: "api",
		settings: func(c *Config) []setting {
			return []setting{
				{"VERZET_WEBHOOK_URLS", "webhook-urls", "", "comma-separated URLs that receive every new or voided objection as signed JSON (all instances must share this list)", &c.WebhookURLs},
				{"VERZET_WEBHOOK_SECRET", "webhook-secret", "", "key of the webhooks' Verzet-Signature (HMAC-SHA256); required with VERZET_WEBHOOK_URLS, at least 16 characters", &c.WebhookSecret},
				{"VERZET_API_RATE", "api-rate", "5000", "requests per second one API token may make on this instance; 0: no limit", &c.APIRate},
				{"VERZET_API_BURST", "api-burst", "", "requests one API token may make at once (default: the rate)", &c.APIBurst},
				{"VERZET_API_BODY_LIMIT", "api-body-limit", "1MiB", "largest JSON request body (KiB, MiB, GiB or bytes); 413 beyond", &c.APIBodyLimit},
				{"VERZET_API_STREAM_LIMIT", "api-stream-limit", "1GiB", "largest scrub list or bulk import body", &c.APIStreamLimit},
				{"VERZET_API_CHECK_FLIGHTS", "api-check-flights", "4", "how many batches of dial-time checks this instance reads from PostgreSQL at once (1-8): checks that arrive while all are busy are read together in the next batch", &c.APICheckFlights},
				{"VERZET_DECISION_RETENTION", "decision-retention", "5y", "how long a logged blocked dial-time check is kept (domain.md §3.4): years (5y), days (400d) or hours (72h); 0 keeps them for ever. Daily counts are kept", &c.DecisionRetention},
				{"VERZET_API_TOKEN_TTL", "api-token-ttl", "5s", "how long a checked API token is trusted before it is read again: a token revoked on another instance works here that long; 0 reads it every time", &c.APITokenTTL},
			}
		},
		start: func(ctx context.Context, srv *Server) error {
			cfg, err := apiConfig(srv.Config)
			if err != nil {
				return err
			}
			reg := srv.Metrics
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			opts := []httpapi.Option{httpapi.WithRegistry(reg)}
			if srv.IVR != nil {
				opts = append(opts, httpapi.WithPromptTexts(catalogTexts{srv.IVR.Catalog}))
				registerIVRMetrics(reg, srv.IVR)
			}
			api := httpapi.New(cfg, srv.Register, srv.Stores.api(), srv.Log.Named("api"), opts...)
			h := api.Handler()
			srv.Mount(func(mux *http.ServeMux) {
				mux.Handle("/v1/", h)
				mux.Handle("GET /metrics", h)
			})
			srv.Go(api.Run)
			return nil
		},
	}
}

// apiConfig reads the API settings; errors name the variable and value.
func apiConfig(c Config) (httpapi.Config, error) {
	out := httpapi.Config{DefaultOrg: c.DefaultOrg}
	var err error
	if out.RateLimit, err = parseFloatSetting("VERZET_API_RATE", c.APIRate); err != nil {
		return out, err
	}
	if out.RateLimit == 0 {
		out.RateLimit = -1
	}
	if c.APIBurst != "" {
		b, err := strconv.Atoi(c.APIBurst)
		if err != nil || b < 1 {
			return out, objections.Invalid("VERZET_API_BURST", c.APIBurst, "must be a whole number of requests, 1 or more")
		}
		out.RateBurst = b
	}
	if out.BodyLimit, err = parseSize("VERZET_API_BODY_LIMIT", c.APIBodyLimit); err != nil {
		return out, err
	}
	if out.StreamLimit, err = parseSize("VERZET_API_STREAM_LIMIT", c.APIStreamLimit); err != nil {
		return out, err
	}
	if c.APICheckFlights != "" {
		n, err := strconv.Atoi(strings.TrimSpace(c.APICheckFlights))
		if err != nil || n < 1 || n > 8 {
			return out, objections.Invalid("VERZET_API_CHECK_FLIGHTS", c.APICheckFlights, "must be a whole number from 1 to 8")
		}
		out.CheckFlights = n
	}
	if c.DecisionRetention != "" {
		d, err := parseRetention(c.DecisionRetention)
		if err != nil {
			return out, objections.Invalid("VERZET_DECISION_RETENTION", c.DecisionRetention, "must be years (5y), days (400d), hours (72h), or 0 to keep for ever")
		}
		out.DecisionRetention = d
	}
	if c.APITokenTTL != "" {
		d, err := time.ParseDuration(c.APITokenTTL)
		if c.APITokenTTL == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			return out, objections.Invalid("VERZET_API_TOKEN_TTL", c.APITokenTTL, "must be a duration such as 5s, or 0")
		}
		out.TokenCacheTTL = d
		if d == 0 {
			out.TokenCacheTTL = -1
		}
	}
	for _, u := range strings.Split(c.WebhookURLs, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return out, objections.Invalid("VERZET_WEBHOOK_URLS", redactedURL(u), "each URL must be absolute http:// or https://")
		}
		out.Webhooks.URLs = append(out.Webhooks.URLs, u)
	}
	out.Webhooks.Secret = c.WebhookSecret
	if len(out.Webhooks.URLs) > 0 && len(c.WebhookSecret) < 16 {
		return out, objections.Invalid("VERZET_WEBHOOK_SECRET", "", "must be set, at least 16 characters, when VERZET_WEBHOOK_URLS is")
	}
	return out, nil
}

func parseFloatSetting(name, v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 {
		return 0, objections.Invalid(name, v, "must be a number of requests per second, 0 for no limit")
	}
	return f, nil
}

// parseSize reads 512, 64KiB, 1MiB, 1GiB.
func parseSize(name, v string) (int64, error) {
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
		return 0, objections.Invalid(name, v, "must be a size such as 1048576, 64KiB, 1MiB or 1GiB")
	}
	return n * mult, nil
}

// redactedURL keeps credentials and query out of error messages.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// catalogTexts gives the API the words of a prompt version the catalogue
// still has.
type catalogTexts struct{ c *prompts.Catalog }

func (t catalogTexts) PromptText(lang, id, version string) (string, bool) {
	if t.c == nil {
		return "", false
	}
	p, err := t.c.Get(lang, prompts.ID(id))
	if err != nil || p.Version != version {
		return "", false
	}
	return p.Text, true
}

// statFunc is a counter or gauge that Prometheus reads from one of the
// atomic counters of a Stats struct when /metrics is scraped.
type statFunc struct {
	name, help string
	load       func() int64
}

func (s statFunc) value() float64 { return float64(s.load()) }

// registerCounterFuncs registers each stat as a CounterFunc.
func registerCounterFuncs(reg prometheus.Registerer, stats []statFunc) {
	for _, s := range stats {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: s.name, Help: s.help}, s.value))
	}
}

// registerGaugeFuncs registers each stat as a GaugeFunc.
func registerGaugeFuncs(reg prometheus.Registerer, stats []statFunc) {
	for _, s := range stats {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: s.name, Help: s.help}, s.value))
	}
}

// registerIVRMetrics exports the IVR's counters and the spool depth.
func registerIVRMetrics(reg prometheus.Registerer, v *IVR) {
	if v.Stats != nil {
		registerCounterFuncs(reg, []statFunc{
			{name: "verzet_ivr_dialogues_total", help: "IVR dialogues started on this instance.", load: v.Stats.Dialogues.Load},
			{name: "verzet_ivr_objections_total", help: "Objections the IVR made durable (store or spool) on this instance.", load: v.Stats.Objections.Load},
			{name: "verzet_ivr_store_failures_total", help: "Key presses the store did not take at once.", load: v.Stats.StoreFailures.Load},
			{name: "verzet_ivr_spooled_total", help: "Records written to the spool instead of the store.", load: v.Stats.Spooled.Load},
			{name: "verzet_ivr_lost_total", help: "Records neither the store nor the spool took.", load: v.Stats.Lost.Load},
			{name: "verzet_ivr_offer_failures_total", help: "Offers (evidence) spooled or lost.", load: v.Stats.OfferFailures.Load},
		})
	}
	if v.Spool != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "verzet_spool_depth",
			Help: "Key presses and offers in this instance's spool, not yet in the store."},
			func() float64 { return float64(v.Spool.Pending()) }))
	}
}

// runTokens is `verzet tokens create|list|revoke`.
func runTokens(ctx context.Context, a *App, args []string) (int, error) {
	if len(args) == 0 {
		return exitFailure, objections.Invalid("subcommand", "", "must be one of create, list, revoke")
	}
	switch args[0] {
	case "create":
		return tokensCreate(ctx, a, args[1:])
	case "list":
		return tokensList(ctx, a, args[1:])
	case "revoke":
		return tokensRevoke(ctx, a, args[1:])
	}
	return exitFailure, objections.Invalid("subcommand", args[0], "must be one of create, list, revoke")
}

// tokenStore opens the configured store's tokens.
func (a *App) tokenStore(ctx context.Context, cfg *Config) (access.TokenStore, func(), error) {
	s, err := openStores(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	return s.Access, func() { s.Close() }, nil
}

func tokensCreate(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("tokens create")
	role := fs.String("role", "", "dialer (callability, scrub), integrator (also writes relations, consents, objections), supervisor (reads everything), admin (everything)")
	name := fs.String("name", "", "a name for whom the token is for, unique among active tokens")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet tokens create --role ROLE --name NAME\n\nPrints the new API token alone on one line; it is shown only this once (only its hash is stored).")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 0 {
		return exitFailure, objections.Invalid("argument", strings.Join(pos, " "), "tokens create takes only --role and --name")
	}
	ts, done, err := a.tokenStore(ctx, cfg)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	t, bearer, err := access.NewToken(*name, access.Role(*role), "cli", time.Now())
	if err != nil {
		return exitFailure, err
	}
	if _, err := ts.CreateToken(ctx, t); err != nil {
		return exitFailure, err
	}
	fmt.Fprintln(a.stdout, bearer)
	return exitOK, nil
}

func tokensList(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("tokens list")
	asJSON := fs.Bool("json", false, "print a JSON array")
	all := fs.Bool("all", false, "also revoked tokens")
	if _, err := parse(fs, args, validate); err != nil {
		return exitFailure, err
	}
	ts, done, err := a.tokenStore(ctx, cfg)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	list, err := ts.Tokens(ctx)
	if err != nil {
		return exitFailure, err
	}
	shown := []access.Token{}
	for _, t := range list {
		if *all || t.RevokedAt == nil {
			shown = append(shown, t)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return exitOK, enc.Encode(shown)
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED (Europe/Amsterdam)\tREVOKED")
	for _, t := range shown {
		revoked := "-"
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05"), revoked)
	}
	return exitOK, tw.Flush()
}

func tokensRevoke(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("tokens revoke")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet tokens revoke ID|NAME\n\nThe token stops working at once on new instances, within VERZET_API_TOKEN_TTL on running ones.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 1 {
		return exitFailure, objections.Invalid("ID", strings.Join(pos, " "), "tokens revoke takes exactly one token id or name")
	}
	ts, done, err := a.tokenStore(ctx, cfg)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	id := pos[0]
	if _, err := ts.Token(ctx, id); objections.ErrorCode(err) == objections.ENOTFOUND {
		list, err := ts.Tokens(ctx)
		if err != nil {
			return exitFailure, err
		}
		for _, t := range list {
			if t.Name == pos[0] && t.RevokedAt == nil {
				id = t.ID
			}
		}
	}
	t, err := ts.RevokeToken(ctx, id, time.Now())
	if err != nil {
		return exitFailure, err
	}
	fmt.Fprintf(a.stdout, "revoked token %s (%s, %s)\n", t.ID, t.Name, t.Role)
	return exitOK, nil
}

// parseRetention reads 5y, 400d, 72h or 0 (for ever: a negative duration
// for httpapi). A year is 365.25 days, rounded up to whole days.
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "0" {
		return -1, nil
	}
	if len(v) < 2 {
		return 0, fmt.Errorf("too short")
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a positive whole number")
	}
	const day = 24 * time.Hour
	switch v[len(v)-1] {
	case 'y':
		return time.Duration((n*36525+99)/100) * day, nil
	case 'd':
		return time.Duration(n) * day, nil
	case 'h':
		return time.Duration(n) * time.Hour, nil
	}
	return 0, fmt.Errorf("unknown unit")
}
