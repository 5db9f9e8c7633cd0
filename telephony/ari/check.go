package ari

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
)

// The prompt audio check. A node that cannot play a prompt makes every
// offer on it fail (outcome error, the call handed back), so after every
// (re)connection the adapter asks each node whether it can play every
// sound the prompts need (Config.Sounds) and reports what is missing in
// the log and in MediaProblems (/readyz):
//
//   - sound files (the default): GET /sounds/{id}. Asterisk's sound index
//     takes every folder at the top of its sounds directory for a
//     language, so a sound installed as sounds/verzet/nl/offer-1.wav,
//     which "sound:verzet/nl/offer-1" plays, is indexed as "nl/offer-1" in
//     language "verzet" and GET /sounds/verzet%2Fnl%2Foffer-1 is a 404
//     (Asterisk 20.20.1, aritest/testdata/real-events/README.txt). The
//     check asks for the name first (a language folder layout such as
//     sounds/en/verzet/…), then for the rest of it in the "language" of
//     its first folder.
//   - HTTP media (Config.MediaURL): GET /asterisk/modules/res_http_media_cache.so
//     (the module that fetches them; ari/v5 has Modules().Get, the adapter
//     sends its own request as for the rest), and an HTTP HEAD of every
//     media URL from here. Whether the node itself reaches that URL the
//     check cannot tell: a prompt it cannot fetch still fails at play time,
//     and the offer's outcome says so.

// mediaCacheModule is Asterisk's HTTP media cache.
const mediaCacheModule = "res_http_media_cache.so"

// mediaReport is one node's last check.
type mediaReport struct {
	at      time.Time
	missing []string
}

// checkMedia runs the check on n and keeps its report. An error means the
// check could not be made (the node is away): the last report stands.
func (n *node) checkMedia(ctx context.Context) error {
	var missing []string
	if n.a.cfg.MediaURL != "" {
		m, err := n.checkHTTPMedia(ctx)
		if err != nil {
			return err
		}
		missing = m
	} else {
		for _, name := range n.a.cfg.Sounds {
			ok, err := n.soundInstalled(ctx, name)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, "sound "+name+" is not installed")
			}
		}
	}
	prev := n.media.Swap(&mediaReport{at: n.a.now(), missing: missing})
	switch {
	case len(missing) > 0:
		n.log.Error("Asterisk cannot play some prompt audio: every offer that needs it ends with outcome error and the call is handed back",
			zap.Int("missing", len(missing)), zap.Strings("what", clip(missing, 10)),
			zap.String("fix", "verzet prompts install --asterisk-sounds DIR on this node, or for HTTP media load res_http_media_cache"))
	case prev != nil && len(prev.missing) > 0:
		n.log.Info("Asterisk can play every prompt's audio again")
	default:
		n.log.Debug("Asterisk can play every prompt's audio", zap.Int("sounds", len(n.a.cfg.Sounds)))
	}
	return nil
}

// soundInstalled asks the node's sound index for name (see above).
func (n *node) soundInstalled(ctx context.Context, name string) (bool, error) {
	var s struct {
		Formats []struct {
			Language string `json:"language"`
		} `json:"formats"`
	}
	err := n.do(ctx, http.MethodGet, "/sounds/"+url.PathEscape(name), nil, nil, &s)
	if err == nil {
		return true, nil
	}
	if statusOf(err) != http.StatusNotFound {
		return false, err
	}
	dir, rest, ok := strings.Cut(name, "/")
	if !ok {
		return false, nil
	}
	err = n.do(ctx, http.MethodGet, "/sounds/"+url.PathEscape(rest), nil, nil, &s)
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, f := range s.Formats {
		if f.Language == dir {
			return true, nil
		}
	}
	return false, nil
}

// checkHTTPMedia checks the media cache module on the node and every
// media URL from here.
func (n *node) checkHTTPMedia(ctx context.Context) ([]string, error) {
	var missing []string
	var mod json.RawMessage
	err := n.do(ctx, http.MethodGet, "/asterisk/modules/"+mediaCacheModule, nil, nil, &mod)
	switch {
	case statusOf(err) == http.StatusNotFound:
		missing = append(missing, "module "+mediaCacheModule+" is not loaded: HTTP media cannot play (module load "+mediaCacheModule+")")
	case err != nil:
		return nil, err
	}
	for _, name := range n.a.cfg.Sounds {
		u := n.a.cfg.MediaURL + name + ".wav"
		if err := n.head(ctx, u); err != nil {
			missing = append(missing, fmt.Sprintf("HTTP media %s: %v", u, err))
		}
	}
	return missing, nil
}

// head sends HEAD u with the node's HTTP client (not its ARI
// credentials).
func (n *node) head(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return err
	}
	resp, err := n.own.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HEAD answered %s", resp.Status)
	}
	return nil
}

// MediaProblems lists what the nodes reported missing at their last check,
// each prefixed with its node: empty when every node checked can play
// every prompt (a node not reached yet has not reported). cmd shows it on
// /readyz.
func (a *Adapter) MediaProblems() []string {
	var out []string
	for _, n := range a.nodes {
		if r := n.media.Load(); r != nil {
			for _, m := range r.missing {
				out = append(out, n.host+": "+m)
			}
		}
	}
	sort.Strings(out)
	return out
}

func clip(l []string, n int) []string {
	if len(l) <= n {
		return l
	}
	return append(l[:n:n], fmt.Sprintf("… and %d more", len(l)-n))
}
