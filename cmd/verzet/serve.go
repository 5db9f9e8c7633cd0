package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

func runServe(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("serve")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet serve [flags]\n\nRuns the HTTP server. Every flag has a VERZET_* variable; flags win.\n\nSettings:")
		fs.PrintDefaults()
	}
	if _, err := parse(fs, args, validate); err != nil {
		return exitFailure, err
	}
	log, err := a.logger(cfg)
	if err != nil {
		return exitFailure, err
	}
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit

	st, err := openStores(ctx, cfg, !cfg.NoMigrate)
	if err != nil {
		return exitFailure, err
	}
	defer st.Close()
	reg, err := st.newRegister(cfg)
	if err != nil {
		return exitFailure, err
	}

	srv := &Server{Log: log, Register: reg, Stores: st, Config: *cfg, Metrics: prometheus.NewRegistry()}
	for _, f := range features() {
		if err := f.start(ctx, srv); err != nil {
			return exitFailure, fmt.Errorf("start %s: %w", f.name, err)
		}
	}
	return exitOK, srv.Run(ctx)
}

// feature is one part plugged into serve (IVR, Twilio, ARI, API, UI): each
// lives in its own file, adds its settings, starts its goroutines on the
// server's group and mounts its routes.
type feature struct {
	name string
	// settings returns the feature's configuration variables.
	settings func(c *Config) []setting
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
	// IVR is set by the ivr feature for the telephony adapters.
	IVR *IVR
	// Metrics is the registry served at /metrics (by the api feature);
	// every feature adds its collectors to it when it starts.
	Metrics *prometheus.Registry
	// Ready, when set, receives the bound address once listening (tests).
	Ready func(addr string)

	mounts []func(mux *http.ServeMux)
	// background are the goroutines features started; Run waits for them
	// after the HTTP server stopped.
	background []func(ctx context.Context)
}

// Mount adds routes to the server's mux.
func (s *Server) Mount(f func(mux *http.ServeMux)) { s.mounts = append(s.mounts, f) }

// Go runs f for the server's lifetime: it starts when Run starts, its ctx is
// cancelled at shutdown after the HTTP server drained, and Run waits for it.
func (s *Server) Go(f func(ctx context.Context)) { s.background = append(s.background, f) }

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Register.Store().Ping(ctx); err != nil {
			s.Log.Warn("store not ready", zap.String("store", s.Config.StoreName()), zap.Error(err))
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": s.Config.StoreName()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "store": s.Config.StoreName()})
	})
	for _, m := range s.mounts {
		m(mux)
	}
	return mux
}

// Run listens until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections and lets requests in flight finish (up to 20 s).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Config.HTTPAddr)
	if err != nil {
		return objections.Invalid("VERZET_HTTP_ADDR", s.Config.HTTPAddr, "cannot listen: %v", err)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          zap.NewStdLog(s.Log.Named("http")),
	}
	s.Log.Info("listening", zap.String("addr", ln.Addr().String()), zap.String("store", s.Config.StoreName()))
	if s.Ready != nil {
		s.Ready(ln.Addr().String())
	}
	bctx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, f := range s.background {
		wg.Add(1)
		go func() { defer wg.Done(); f(bctx) }()
	}
	defer func() { stopBackground(); wg.Wait() }()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	s.Log.Info("stopped")
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
