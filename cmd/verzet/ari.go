package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5/client/native"
	"github.com/inconshreveable/log15"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/telephony/ari"
)

// ariFeature runs the Asterisk adapter (telephony/ari) when VERZET_ARI_URL
// names one or more Asterisk nodes.
func ariFeature() feature {
	return feature{
		name: "ari",
		settings: func(c *Config) []setting {
			return []setting{
				{"VERZET_ARI_URL", "ari-url", "", "Asterisk ARI base URLs, comma-separated (http://pbx1:8088/ari,http://pbx2:8088/ari); one connection each. Empty: no Asterisk", &c.ARIURL},
				{"VERZET_ARI_USER", "ari-user", "", "ari.conf user of the adapter", &c.ARIUser},
				{"VERZET_ARI_PASSWORD", "ari-password", "", "that user's password. Prefer the variable: flags show in ps", &c.ARIPassword},
				{"VERZET_ARI_APP", "ari-app", "verzet", "Stasis application name; give every verzet instance its own (a second websocket with the same name takes every call from the first)", &c.ARIApp},
				{"VERZET_ARI_MEDIA_URL", "ari-media-url", "", "play prompts from verzet over HTTP instead of installed sound files: verzet's base URL as Asterisk reaches it (http://verzet:8080); audio is served under /ari/media/", &c.ARIMediaURL},
			}
		},
		start: startARI,
	}
}

func startARI(ctx context.Context, srv *Server) error {
	cfg := srv.Config
	if strings.TrimSpace(cfg.ARIURL) == "" {
		return nil
	}
	if srv.IVR == nil {
		return objections.Errorf(objections.EINTERNAL, "the ari feature needs the ivr feature started first")
	}
	var urls []string
	for _, u := range strings.Split(cfg.ARIURL, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
			// The value may hold a password: name the setting, not the value.
			return objections.Invalid("VERZET_ARI_URL", "", "must list ARI base URLs such as http://pbx1:8088/ari, without credentials (use VERZET_ARI_USER and VERZET_ARI_PASSWORD)")
		}
		urls = append(urls, u)
	}
	if cfg.ARIUser == "" || cfg.ARIPassword == "" {
		return objections.Invalid("VERZET_ARI_USER", cfg.ARIUser, "and VERZET_ARI_PASSWORD are both required with VERZET_ARI_URL")
	}
	media := strings.TrimRight(strings.TrimSpace(cfg.ARIMediaURL), "/")
	if media != "" {
		if u, err := url.Parse(media); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return objections.Invalid("VERZET_ARI_MEDIA_URL", cfg.ARIMediaURL, "must be verzet's base URL as Asterisk reaches it, e.g. http://verzet:8080")
		}
		media += "/ari/media/"
		srv.Mount(func(mux *http.ServeMux) {
			mux.Handle("GET /ari/media/", http.StripPrefix("/ari/media/", ari.MediaHandler(srv.IVR.Catalog)))
		})
	}
	log := srv.Log.Named("ari")
	bridgeARILogger(log)
	flows := func(ctx context.Context, org, lang string) (ivr.Flow, string) {
		return srv.IVR.Flow(ctx, srv.Register, org, lang)
	}
	a, err := ari.New(ari.Config{URLs: urls, Username: cfg.ARIUser, Password: cfg.ARIPassword, App: cfg.ARIApp,
		DefaultOrg: cfg.DefaultOrg, MediaURL: media}, srv.IVR.Dialogue, flows, log)
	if err != nil {
		return objections.Invalid("VERZET_ARI_URL", "", "%v", err)
	}
	log.Info("Asterisk adapter on", zap.Int("nodes", len(urls)), zap.String("app", cfg.ARIApp), zap.Bool("http_media", media != ""))
	srv.Go(func(bctx context.Context) {
		// Intake stops at the signal (ctx), not only once the HTTP server
		// has drained (bctx); Run then lets active dialogues finish.
		rctx, cancel := context.WithCancel(bctx)
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		defer cancel()
		a.Run(rctx)
	})
	return nil
}

// bridgeARILogger sends ari/v5's log15 output (its only logger, a package
// global) to zap: the one tolerated global (STYLE.md §6). Its errors are
// mostly retries the adapter reports itself (ari/v5 re-dials a lost
// websocket every second), so they log as warnings, each message at most
// once a minute; the repeats go to debug.
func bridgeARILogger(log *zap.Logger) {
	l := log.Named("ariv5")
	var mu sync.Mutex
	last := map[string]time.Time{}
	native.Logger.SetHandler(log15.FuncHandler(func(r *log15.Record) error {
		lvl := zapcore.DebugLevel
		switch r.Lvl {
		case log15.LvlCrit, log15.LvlError, log15.LvlWarn:
			lvl = zapcore.WarnLevel
			mu.Lock()
			if time.Since(last[r.Msg]) < time.Minute {
				lvl = zapcore.DebugLevel
			} else {
				last[r.Msg] = time.Now()
			}
			mu.Unlock()
		case log15.LvlInfo:
			lvl = zapcore.InfoLevel
		}
		if ce := l.Check(lvl, r.Msg); ce != nil {
			fields := make([]zap.Field, 0, len(r.Ctx)/2)
			for i := 0; i+1 < len(r.Ctx); i += 2 {
				fields = append(fields, zap.String(fmt.Sprint(r.Ctx[i]), fmt.Sprint(r.Ctx[i+1])))
			}
			ce.Write(fields...)
		}
		return nil
	}))
}
