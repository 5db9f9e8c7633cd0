package main

import (
	"context"
	"strings"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// IVR is what the telephony adapters share: one dialogue runner over the
// register, the spool and the prompt catalogue, and the per-org flows.
type IVR struct {
	Dialogue *ivr.Dialogue
	Catalog  *prompts.Catalog
	Stats    *ivr.Stats
}

// Flow returns the dialogue flow and language for an org. An org met for the
// first time gets the defaults; no key press is ever refused for it.
func (v *IVR) Flow(ctx context.Context, reg *objections.Register, org, lang string) (ivr.Flow, string) {
	flow := ivr.DefaultFlow()
	o, err := reg.Store().Org(ctx, org)
	if err == nil {
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
			cat, err := loadCatalog(&srv.Config)
			if err != nil {
				return err
			}
			stats := &ivr.Stats{}
			keeper := ivr.NewKeeper(srv.Register, nil, srv.Log.Named("ivr"), stats)
			srv.IVR = &IVR{Dialogue: ivr.NewDialogue(keeper, cat, srv.Log.Named("ivr"), nil), Catalog: cat, Stats: stats}
			return nil
		},
	}
}
