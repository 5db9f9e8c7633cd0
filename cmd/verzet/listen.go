package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

// MountMetrics adds operators' routes (/metrics): on the metrics listener
// when VERZET_METRICS_ADDR is set, else on the public one.
func (s *Server) MountMetrics(f func(mux *http.ServeMux)) {
	s.metricsMounts = append(s.metricsMounts, f)
}

// metricsHandler is the metrics listener's: the routes of MountMetrics
// and the runtime profiles under /debug/pprof/ (not /debug/pprof/cmdline:
// flags may hold passwords).
func (s *Server) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	for _, m := range s.metricsMounts {
		m(mux)
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /debug/pprof/cmdline", http.NotFound)
	return mux
}

// listener is one address serve answers on.
type listener struct {
	name string // "http" or "metrics", for logs and errors
	ln   net.Listener
	hs   *http.Server
	tls  bool
}

func (l *listener) serve() error {
	if l.tls {
		return l.hs.ServeTLS(l.ln, "", "") // the certificate comes from TLSConfig.GetCertificate
	}
	return l.hs.Serve(l.ln)
}

// listen opens the public listener (HTTPS with VERZET_TLS_CERT) and, with
// VERZET_METRICS_ADDR, the metrics listener. Errors name the setting.
func (s *Server) listen() ([]*listener, error) {
	cfg := s.Config.HTTP
	public := &listener{name: "http", hs: s.httpServer(s.Handler(), 60*time.Second)}
	if cfg.TLS() {
		certs, err := loadCertFiles(cfg, s.Log.Named("tls"), s.now)
		if err != nil {
			return nil, err
		}
		public.tls = true
		public.hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, objections.Invalid("VERZET_HTTP_ADDR", cfg.Addr, "cannot listen: %v", err)
	}
	public.ln = ln
	out := []*listener{public}
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			public.ln.Close()
			return nil, objections.Invalid("VERZET_METRICS_ADDR", cfg.MetricsAddr, "cannot listen: %v", err)
		}
		// A CPU profile or trace takes as long as asked (30 s by default).
		out = append(out, &listener{name: "metrics", ln: ln, hs: s.httpServer(s.metricsHandler(), 10*time.Minute)})
	}
	return out, nil
}

func (s *Server) httpServer(h http.Handler, writeTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          zap.NewStdLog(s.Log.Named("http")),
	}
}

// Run listens until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections and lets requests in flight finish (up to 20 s).
func (s *Server) Run(ctx context.Context) error {
	ls, err := s.listen()
	if err != nil {
		// The features' goroutines run with their ctx ended, so that they
		// release what they hold (the spool's lock) before Run returns.
		s.startBackground(ctx, false)()
		return err
	}
	public := ls[0]
	s.Log.Info("listening", zap.String("addr", public.ln.Addr().String()), zap.String("store", s.Config.Store.Kind()),
		zap.Bool("tls", public.tls), zap.Int("trusted_proxies", len(s.Config.HTTP.TrustedProxies)))
	for _, l := range ls[1:] {
		s.Log.Info("metrics listening", zap.String("addr", l.ln.Addr().String()))
	}
	if s.Ready != nil {
		s.Ready(public.ln.Addr().String())
	}
	defer s.startBackground(ctx, true)()

	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() {
			err := l.serve()
			if !errors.Is(err, http.ErrServerClosed) {
				err = fmt.Errorf("%s server: %w", l.name, err)
			}
			errc <- err
		}()
	}
	var failed error
	select {
	case failed = <-errc:
	case <-ctx.Done():
		s.Log.Info("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	var shutdown sync.WaitGroup
	errs := make([]error, len(ls))
	for i, l := range ls {
		shutdown.Go(func() {
			if err := l.hs.Shutdown(sctx); err != nil {
				errs[i] = fmt.Errorf("%s shutdown: %w", l.name, err)
			}
		})
	}
	shutdown.Wait()
	rest := len(ls)
	if failed != nil {
		rest--
	}
	for range rest {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if failed != nil {
		return errors.Join(append([]error{failed}, errs...)...)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.Log.Info("stopped")
	return nil
}

// startBackground runs the goroutines of Server.Go; the func it returns
// ends their ctx and waits for them. Unless live, their ctx has ended
// before they start.
func (s *Server) startBackground(ctx context.Context, live bool) (stop func()) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if !live {
		cancel()
	}
	var wg sync.WaitGroup
	for _, f := range s.background {
		wg.Go(func() { f(bctx) })
	}
	return func() { cancel(); wg.Wait() }
}
