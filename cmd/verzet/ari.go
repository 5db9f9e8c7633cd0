package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5/client/native"
	"github.com/inconshreveable/log15"
	"github.com/prometheus/client_golang/prometheus"
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
		name:  "ari",
		start: startARI,
	}
}

func startARI(ctx context.Context, srv *Server) error {
	cfg := srv.Config.ARI
	if len(cfg.URLs) == 0 {
		return nil
	}
	if srv.IVR == nil {
		return objections.Errorf(objections.EINTERNAL, "the ari feature needs the ivr feature started first")
	}
	media := ""
	if cfg.MediaURL != "" {
		media = cfg.MediaURL + "/ari/media/"
		srv.Mount(func(mux *http.ServeMux) {
			mux.Handle("GET /ari/media/", http.StripPrefix("/ari/media/", ari.MediaHandler(srv.IVR.Prompts.lib)))
		})
	}
	log := srv.Log.Named("ari")
	bridgeARILogger(log)
	flows := func(ctx context.Context, org, lang string) (ivr.Flow, string) {
		return srv.IVR.Flow(ctx, srv.Register, org, lang)
	}
	a, err := ari.New(ari.Config{URLs: cfg.URLs, Username: cfg.User, Password: cfg.Password, App: cfg.App,
		DefaultOrg: srv.Config.Orgs.Default, MediaURL: media, Sounds: srv.IVR.Catalog.SoundNames(),
		Instance: srv.IVR.Instance, Peers: srv.Stores.Peers}, srv.IVR.Dialogue, flows, log)
	if err != nil {
		return objections.Invalid("VERZET_ARI_URL", "", "%v", err)
	}
	registerARIMetrics(srv.Metrics, a.Stats())
	srv.Readiness = append(srv.Readiness, readiness{name: "ari_media_missing", problems: a.MediaProblems})
	log.Info("Asterisk adapter on", zap.Int("nodes", len(cfg.URLs)), zap.String("app", cfg.App), zap.Bool("http_media", media != ""))
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

// registerARIMetrics exports the adapter's counters, summed over the nodes.
func registerARIMetrics(reg prometheus.Registerer, st *ari.Stats) {
	registerCounterFuncs(reg, []statFunc{
		{name: "verzet_ari_connects_total", help: "ARI websocket connections established, first and re-connections.", load: st.Connects.Load},
		{name: "verzet_ari_reconnects_total", help: "Of the ARI connections, re-connections of a live client.", load: st.Reconnects.Load},
		{name: "verzet_ari_connect_failures_total", help: "ARI connect attempts that failed or timed out.", load: st.ConnectFailures.Load},
		{name: "verzet_ari_heartbeat_misses_total", help: "Heartbeats not echoed on the ARI websocket.", load: st.HeartbeatMisses.Load},
		{name: "verzet_ari_filter_failures_total", help: "ARI event filters not set after a connect.", load: st.FilterFailures.Load},
		{name: "verzet_ari_reconciles_total", help: "Asterisk channel lists compared with the dialogues.", load: st.Reconciles.Load},
		{name: "verzet_ari_calls_started_total", help: "Dialogues started on Asterisk channels (StasisStart or adopted).", load: st.CallsStarted.Load},
		{name: "verzet_ari_calls_refused_total", help: "Channels handed back to the dialplan untouched (shutdown, no org).", load: st.CallsRefused.Load},
		{name: "verzet_ari_calls_adopted_total", help: "Channels found in the app without a dialogue (events lost).", load: st.CallsAdopted.Load},
		{name: "verzet_ari_calls_vanished_total", help: "Channels that left the app while their end event was lost.", load: st.CallsVanished.Load},
		{name: "verzet_ari_keys_dropped_total", help: "DTMF keys with no dialogue to take them.", load: st.KeysDropped.Load},
		{name: "verzet_ari_playbacks_lost_total", help: "Playbacks whose PlaybackFinished never came.", load: st.PlaybacksLost.Load},
		{name: "verzet_ari_events_undecodable_total", help: "ARI events of a type ari/v5 cannot decode; non-zero means the event filter is not in force.", load: st.EventsUndecodable.Load},
		{name: "verzet_ari_replaced_total", help: "ApplicationReplaced received: another websocket took the Stasis app.", load: st.Replaced.Load},
		{name: "verzet_ari_calls_taken_over_total", help: "Channels of a stopped instance moved into this instance's Stasis app.", load: st.CallsTakenOver.Load},
		{name: "verzet_ari_heartbeat_write_failures_total", help: "Heartbeats of this instance the store did not take.", load: st.HeartbeatFailures.Load},
	})
	registerGaugeFuncs(reg, []statFunc{
		{name: "verzet_ari_calls_active", help: "Asterisk channels being handled now.", load: st.CallsActive.Load},
		{name: "verzet_ari_event_backlog_max", help: "Most ARI events ever queued for the router at once.", load: st.EventBacklogMax.Load},
	})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "verzet_ari_event_lag_max_seconds",
		Help: "Longest a StasisStart or key took to reach the router, by Asterisk's timestamp."},
		func() float64 { return float64(st.EventLagMaxMS.Load()) / 1000 }))
}

// bridgeARILogger sends ari/v5's log15 output (its only logger, a package
// global) to zap: the one tolerated global. Its errors are
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
