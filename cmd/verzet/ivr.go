package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/spool"
	"github.com/verzet/verzet/prompts"
)

// IVR is what the telephony adapters share: one dialogue runner over the
// register, the spool and the prompt catalogue, and the per-org flows.
type IVR struct {
	Dialogue *ivr.Dialogue
	Catalog  *prompts.Catalog
	// Prompts is the catalogue with the store's prompt audio on top: what
	// the dialogue composes and the adapters serve.
	Prompts *promptLibrary
	Stats   *ivr.Stats
	Spool   *spool.Spool
	// Instance is this process's id on the store: its offers' instance and
	// its heartbeat row (ari feature).
	Instance string
}

// Flow returns the dialogue flow and language for an org. An org met for the
// first time gets the defaults; no key press is ever refused for it.
func (v *IVR) Flow(ctx context.Context, reg *objections.Register, org, lang string) (ivr.Flow, string) {
	flow := ivr.DefaultFlow()
	// An org nobody set up gets the defaults; a store outage too: the
	// dialogue must go on, and the key press is spooled if need be.
	if o, err := reg.Store().Org(ctx, org); err == nil {
		flow = ivr.FlowFor(o)
		if lang == "" {
			lang = o.Language
		}
	}
	lang = strings.ToLower(lang)
	if _, err := v.Catalog.Get(lang, prompts.Offer); err != nil {
		lang = prompts.DefaultLang
	}
	return flow, lang
}

func ivrFeature() feature {
	return feature{
		name: "ivr",
		start: func(ctx context.Context, srv *Server) error {
			cat, err := loadCatalog(srv.Config.Prompts)
			if err != nil {
				return err
			}
			// The spool keeps key presses the store cannot take, on this
			// instance's disk, and replays them in order until the store
			// has them (idempotently: the store dedupes on the call ref).
			sp, err := spool.Open(filepath.Join(srv.Config.Store.DataDir, "spool"))
			var held *objections.Error
			if errors.As(err, &held) && held.Code == objections.ECONFLICT {
				// Another server runs on this data dir; the spool's lock
				// names it: "… (process 1234)".
				by := held.Message
				if i := strings.LastIndex(by, "("); i >= 0 {
					by = strings.Trim(by[i:], "()")
				}
				return objections.Invalid("VERZET_DATA_DIR", srv.Config.Store.DataDir,
					"is in use by another verzet serve (%s), which holds the lock of its key-press spool: stop that server first, or give each server its own VERZET_DATA_DIR", by)
			}
			if err != nil {
				return fmt.Errorf("open the key-press spool: %w", err)
			}
			if n := sp.Pending(); n > 0 {
				srv.Log.Warn("spool holds key presses from before; replaying", zap.Int("pending", n))
			}
			log := srv.Log.Named("spool")
			srv.Go(func(ctx context.Context) {
				defer sp.Close()
				sp.Run(ctx, srv.Register.Store(), 5*time.Second, func(err error) {
					log.Error("spool replay failed; will retry", zap.Int("pending", sp.Pending()), zap.Error(err))
				})
			})
			stats := &ivr.Stats{}
			instance := instanceID()
			keeper := ivr.NewKeeper(srv.Register, sp, srv.Log.Named("ivr"), stats, ivr.WithInstance(instance))
			lib := newPromptLibrary(ctx, cat, srv.Stores.Prompts, srv.Register, srv.Log.Named("prompts"))
			srv.Go(lib.run)
			srv.IVR = &IVR{Dialogue: ivr.NewDialogue(keeper, lib, srv.Log.Named("ivr"), nil), Catalog: cat, Prompts: lib, Stats: stats, Spool: sp,
				Instance: instance}
			srv.Log.Info("instance", zap.String("instance", instance))
			return nil
		},
	}
}

// instanceID names this process among the instances on its store: the
// host, then a random part, since a restarted process is a new instance.
func instanceID() string {
	host, _ := os.Hostname() // "" is fine: the random part is unique
	if len(host) > 64 {
		host = host[:64]
	}
	return strings.Trim(host+"-"+strings.ToLower(objections.NewID(time.Now())[16:]), "-")
}
