package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

func (a *App) serveCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: the /v1 API, the web UI, and the Twilio and Asterisk adapters",
		Long: `Runs the HTTP server until SIGTERM or Ctrl-C: the /v1 API for dialers and integrators, the
supervisors' web UI at /ui/, the Twilio webhooks (with VERZET_TWILIO_AUTH_TOKEN or --demo)
and the Asterisk adapter (with VERZET_ARI_URL); GET /healthz and /readyz for probes.

It creates the store when it does not exist and migrates it first (PostgreSQL: unless
--no-migrate). Every setting below is also a VERZET_* variable; flags win.`,
		Example: `  verzet serve
  verzet serve --demo                       # try the Twilio dialogue locally with verzet simulate twilio
  VERZET_DATABASE_URL=postgres://verzet:…@db:5432/verzet verzet serve --http-addr :8080`,
		GroupID: groupServer,
	}
	b := newBinding(a.env, cmd.Flags())
	for _, s := range cfg.sections() {
		b.flags(s)
	}
	var opt serveOptions
	fs := cmd.Flags()
	fs.BoolVar(&opt.noMigrate, "no-migrate", false, "do not apply PostgreSQL schema migrations at start-up (run verzet migrate separately)")
	fs.BoolVar(&opt.demo, "demo", false, "turn on the Twilio webhooks with a local token kept in the data dir, and print the verzet simulate twilio command to try them")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "serve takes flags only")
		}
		return exitOK, a.serve(ctx, cfg, opt)
	})
}

// serveOptions are serve's own flags.
type serveOptions struct {
	noMigrate bool // --no-migrate
	demo      bool // --demo: Twilio webhooks with a local token
}

func (a *App) serve(ctx context.Context, cfg Config, opt serveOptions) error {
	log := a.logger(cfg.Log)
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit

	mode := createStore
	if opt.noMigrate {
		mode = createStoreNoMigrate
	}
	s, err := openStore(ctx, cfg.Store, mode)
	if err != nil {
		return err
	}
	defer s.Close()

	srv := &Server{Log: log, Register: s.newRegister(&cfg), Stores: s, Config: cfg, Demo: opt.demo, Metrics: prometheus.NewRegistry()}
	for _, f := range features() {
		if err := f.start(ctx, srv); err != nil {
			return fmt.Errorf("start %s: %w", f.name, err)
		}
	}
	return srv.Run(ctx)
}

// feature is one part plugged into serve (IVR, Twilio, ARI, API, UI): each
// lives in its own file, reads its section of the configuration, starts its
// goroutines on the server's group and mounts its routes.
type feature struct {
	name string
	// start validates the feature's configuration, starts what it runs and
	// adds its routes with srv.Mount.
	start func(ctx context.Context, srv *Server) error
}

// Server is the HTTP side of `verzet serve`. Later parts (API, UI, Twilio)
// mount their handlers on its mux.
type Server struct {
	Log      *zap.Logger
	Register *objections.Register
	// Stores are the capabilities of the register's store (stores.go).
	Stores *stores
	Config Config
	// Demo is serve --demo: the Twilio webhooks with a local token.
	Demo bool
	// IVR is set by the ivr feature for the telephony adapters.
	IVR *IVR
	// Metrics is the registry served at /metrics (by the api feature);
	// every feature adds its collectors to it when it starts.
	Metrics *prometheus.Registry
	// Ready, when set, receives the bound address once listening (tests).
	Ready func(addr string)
	// UI is set by the ui feature: GET / then leads to the web UI.
	UI bool
	// Readiness are the features' own checks for /readyz, besides the
	// store's.
	Readiness []readiness

	mounts        []func(mux *http.ServeMux)
	metricsMounts []func(mux *http.ServeMux) // listen.go
	// now is the clock of the TLS certificate reload; nil: time.Now.
	now func() time.Time
	// background are the goroutines features started; Run waits for them
	// after the HTTP server stopped.
	background []func(ctx context.Context)
}

// readiness is a feature's check for /readyz: problems lists what is
// wrong, shown under name. A problem makes the instance "degraded", still
// 200: the dial-time API and the UI must not leave the load balancer
// because an Asterisk node lacks a sound file (every instance talking to
// that node would); the log, the body and the metrics say what is wrong.
type readiness struct {
	name     string
	problems func() []string
}

// Mount adds routes to the server's mux.
func (s *Server) Mount(f func(mux *http.ServeMux)) { s.mounts = append(s.mounts, f) }

// Go runs f for the server's lifetime: it starts when Run starts, its ctx is
// cancelled at shutdown after the HTTP server drained, and Run waits for it.
func (s *Server) Go(f func(ctx context.Context)) { s.background = append(s.background, f) }

// Handler returns the public listener's routes, behind the forwarding
// headers' check (proxy.go).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if s.UI {
			http.Redirect(w, r, "/ui/", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "verzet: the API for dialers and integrators is at /v1/ (its description at /v1/openapi.json); /healthz and /readyz answer probes.\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Register.Store().Ping(ctx); err != nil {
			s.Log.Warn("store not ready", zap.String("store", s.Config.Store.Kind()), zap.Error(err))
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": s.Config.Store.Kind()})
			return
		}
		body := map[string]any{"status": "ready", "store": s.Config.Store.Kind()}
		status := http.StatusOK
		for _, c := range s.Readiness {
			if p := c.problems(); len(p) > 0 {
				body[c.name], body["status"] = p, "degraded"
			}
		}
		writeJSON(w, status, body)
	})
	for _, m := range s.mounts {
		m(mux)
	}
	if s.Config.HTTP.MetricsAddr == "" {
		for _, m := range s.metricsMounts {
			m(mux)
		}
	}
	return s.Config.HTTP.TrustedProxies.front(mux)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
