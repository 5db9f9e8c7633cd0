package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/httpapi"
	"github.com/verzet/verzet/prompts"
)

// apiFeature serves the /v1 API for dialers and integrators
// (objections/httpapi), Prometheus metrics at /metrics (on the metrics
// listener when there is one), and relays the webhooks.
func apiFeature() feature {
	return feature{
		name: "api",
		start: func(ctx context.Context, srv *Server) error {
			cfg := srv.Config.API.httpapi(srv.Config.Orgs.Default, srv.Config.Webhooks)
			reg := srv.Metrics
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			opts := []httpapi.Option{httpapi.WithRegistry(reg)}
			if srv.IVR != nil {
				opts = append(opts, httpapi.WithPromptTexts(promptTexts{srv.IVR.Catalog, srv.Stores.Prompts}), httpapi.WithPrompts(srv.IVR.Prompts))
				registerIVRMetrics(reg, srv.IVR)
			}
			api := httpapi.New(cfg, srv.Register, srv.Stores.api(), srv.Log.Named("api"), opts...)
			h := api.Handler()
			srv.Mount(func(mux *http.ServeMux) { mux.Handle("/v1/", h) })
			srv.MountMetrics(func(mux *http.ServeMux) { mux.Handle("GET /metrics", h) })
			srv.Go(api.Run)
			return nil
		},
	}
}

// promptTexts gives the API the words an offer's prompt said: as kept by
// its hash (keptPlayback), else the text of a prompt version the catalogue
// still has.
type promptTexts struct {
	c    *prompts.Catalog
	kept promptStore
}

func (t promptTexts) PromptText(ctx context.Context, o objections.Offer) (string, bool) {
	if pb, ok := keptPlayback(ctx, t.kept, o); ok {
		return pb.Text, true
	}
	if t.c == nil {
		return "", false
	}
	p, err := t.c.Get(o.Language, prompts.ID(o.PromptID))
	if err != nil || p.Version != o.PromptVersion {
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
			{name: "verzet_ivr_offer_start_failures_total", help: "Offers whose in_progress record the store did not take (the final one is still written).",
				load: v.Stats.OfferStartFailures.Load},
		})
		reg.MustRegister(playbackFailures{v.Stats})
	}
	if v.Spool != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "verzet_spool_depth",
			Help: "Key presses and offers in this instance's spool, not yet in the store."},
			func() float64 { return float64(v.Spool.Pending()) }))
	}
}

// playbackFailures exports ivr.Stats.PlaybackFailures: prompts the
// provider could not play, by kind (not_found, refused, other). Each made
// an offer's outcome error.
type playbackFailures struct{ st *ivr.Stats }

var playbackFailuresDesc = prometheus.NewDesc("verzet_ivr_playback_failures_total",
	"Prompts the provider could not play (each made its offer's outcome error), by kind.", []string{"kind"}, nil)

func (p playbackFailures) Describe(ch chan<- *prometheus.Desc) { ch <- playbackFailuresDesc }

func (p playbackFailures) Collect(ch chan<- prometheus.Metric) {
	for kind, n := range p.st.PlaybackFailures() {
		ch <- prometheus.MustNewConstMetric(playbackFailuresDesc, prometheus.CounterValue, float64(n), kind)
	}
}

func (a *App) tokensCmd() *cobra.Command {
	return group("tokens", "Manage API tokens for dialers and integrators",
		`API tokens let dialers and integrators use the /v1 API. Each has a role; only its hash is
stored, so a new token is printed once.`,
		groupAccess, a.tokensCreateCmd(), a.tokensListCmd(), a.tokensRevokeCmd())
}

// tokenStore opens the configured store's tokens.
func (a *App) tokenStore(ctx context.Context, cfg *Config) (access.TokenStore, func(), error) {
	s, err := openStore(ctx, cfg.Store, existingStore)
	if err != nil {
		return nil, nil, err
	}
	return s.Access, func() { s.Close() }, nil
}

func (a *App) tokensCreateCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "create --role ROLE --name NAME [--org ID …]",
		Short: "Create an API token; it is printed once, alone on stdout",
		Long: `Creates an API token and prints it alone on one line of stdout: it is shown only this once
(only its hash is stored). The store it was written to is named on stderr.

With --org the token reaches only those orgs (set up first with 'verzet orgs set'): other orgs'
records are absent from its reads, and its writes and checks for them are refused. A token
scoped to an agency may also check and scrub numbers for the advertisers that list that agency,
and record the objections of its calls for them. Without --org it reaches every org.`,
		Example: `  verzet tokens create --role dialer --name dialer-1
  verzet tokens create --role dialer --name acme-dialer --org acme
  verzet tokens create --role integrator --name callcenter1-crm --org callcenter1
  TOKEN=$(verzet tokens create --role integrator --name crm)`,
	}
	b := a.storeBinding(cmd, &cfg)
	role := cmd.Flags().String("role", "", "dialer (callability, scrub), integrator (also writes relations, consents, objections), supervisor (reads everything), admin (everything)")
	name := cmd.Flags().String("name", "", "a name for whom the token is for, unique among active tokens")
	orgFlags := cmd.Flags().StringArray("org", nil, "reach only this org (repeat for several); default every org")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 0 {
			return exitFailure, objections.Invalid("argument", strings.Join(args, " "), "tokens create takes only --role, --name and --org")
		}
		if _, _, err := access.NewToken(*name, access.Role(*role), access.Scope(*orgFlags), "cli", time.Now()); err != nil {
			return exitFailure, err // a bad name, role or org id, before the store is opened
		}
		s, err := openStore(ctx, cfg.Store, existingStore)
		if err != nil {
			return exitFailure, err
		}
		defer s.Close()
		orgs, err := scopeOf(ctx, s.Register, *orgFlags)
		if err != nil {
			return exitFailure, err
		}
		t, bearer, err := access.NewToken(*name, access.Role(*role), orgs, "cli", time.Now())
		if err != nil {
			return exitFailure, err
		}
		if _, err := s.Access.CreateToken(ctx, t); err != nil {
			return exitFailure, err
		}
		fmt.Fprintln(a.stdout, bearer)
		fmt.Fprintf(a.stderr, "token %s (%s, %s, reaches %s) created in %s\n", t.ID, t.Name, t.Role, t.Orgs, cfg.Store.Where())
		return exitOK, nil
	})
}

func (a *App) tokensListCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List API tokens (never the tokens themselves)",
		Long:    "Lists the API tokens: id, name, role, when created and revoked. The tokens themselves are not stored. Changes nothing.",
		Example: "  verzet tokens list\n  verzet tokens list --all --json",
	}
	b := a.storeBinding(cmd, &cfg)
	asJSON := cmd.Flags().Bool("json", false, "print a JSON array")
	all := cmd.Flags().Bool("all", false, "also revoked tokens")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "tokens list takes flags only")
		}
		ts, done, err := a.tokenStore(ctx, &cfg)
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
			return exitOK, printJSON(a, shown)
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tORGS\tCREATED (Europe/Amsterdam)\tREVOKED")
		for _, t := range shown {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, scopeColumn(t.Orgs), t.CreatedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05"), revoked)
		}
		return exitOK, tw.Flush()
	})
}

func (a *App) tokensRevokeCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "revoke ID|NAME",
		Short: "Revoke an API token",
		Long: `Revokes an API token, by id or by name. It stops working at once on instances that start
now, and within VERZET_API_TOKEN_TTL on running ones.`,
		Example: "  verzet tokens revoke dialer-1",
	}
	b := a.storeBinding(cmd, &cfg)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("ID", strings.Join(args, " "), "tokens revoke takes exactly one token id or name")
		}
		ts, done, err := a.tokenStore(ctx, &cfg)
		if err != nil {
			return exitFailure, err
		}
		defer done()
		id := args[0]
		if _, err := ts.Token(ctx, id); objections.ErrorCode(err) == objections.ENOTFOUND {
			list, err := ts.Tokens(ctx)
			if err != nil {
				return exitFailure, err
			}
			for _, t := range list {
				if t.Name == args[0] && t.RevokedAt == nil {
					id = t.ID
				}
			}
		}
		t, err := ts.RevokeToken(ctx, id, time.Now())
		if err != nil {
			return exitFailure, err
		}
		fmt.Fprintf(a.stdout, "revoked token %s (%s, %s) in %s\n", t.ID, t.Name, t.Role, cfg.Store.Where())
		return exitOK, nil
	})
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
