package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/telephony/twilio"
	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

// demoTokenFile holds the auth token serve --demo generates, in the data
// dir, so that verzet simulate twilio can sign with it.
const demoTokenFile = "twilio-demo-token"

func twilioFeature() feature {
	return feature{name: "twilio", start: startTwilio}
}

// twilioCalls is what the Twilio feature needs of the store: the call
// records, and their purge. Both stores implement it.
type twilioCalls interface {
	twilio.Calls
	PurgeCalls(ctx context.Context, provider string, before time.Time) (int64, error)
}

var (
	_ twilioCalls = (*postgres.Store)(nil)
	_ twilioCalls = (*sqlite.Store)(nil)
)

func startTwilio(ctx context.Context, srv *Server) error {
	cfg := srv.Config.Twilio
	log := srv.Log.Named("twilio")
	tokens := cfg.AuthTokens
	if len(tokens) == 0 && !srv.Demo {
		log.Info("Twilio webhooks off: VERZET_TWILIO_AUTH_TOKEN is not set")
		return nil
	}
	if srv.IVR == nil {
		return objections.Errorf(objections.EINTERNAL, "the twilio feature needs the ivr feature started first")
	}
	calls := srv.Stores.Calls
	public := cfg.PublicURL
	if public == "" && (!srv.Demo || len(tokens) > 0) { // --demo's own token only may go without
		return objections.Invalid("VERZET_PUBLIC_URL", "", "is required with VERZET_TWILIO_AUTH_TOKEN: the base URL Twilio requests (https://ivr.example.nl); signatures are checked against it")
	}
	dataDir := srv.Config.Store.DataDir
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs // the printed commands work from any folder
	}
	if len(tokens) == 0 {
		t, err := demoToken(dataDir, true)
		if err != nil {
			return err
		}
		tokens = []string{t}
	}
	for lang := range cfg.Voices {
		if lang != "" && !slices.Contains(srv.IVR.Catalog.Languages(), lang) {
			return objections.Invalid("VERZET_TWILIO_TTS", cfg.VoicesRaw, "names language %q, which the prompt catalogue lacks (%s)", lang, strings.Join(srv.IVR.Catalog.Languages(), ", "))
		}
	}
	org := srv.Config.Orgs.Default
	if srv.Demo && org == "" {
		org = "demo"
	}
	flows := func(ctx context.Context, org, lang string) (ivr.Flow, string) {
		return srv.IVR.Flow(ctx, srv.Register, org, lang)
	}
	h, err := twilio.New(twilio.Config{AuthTokens: tokens, PublicURL: public, DefaultOrg: org, Voices: cfg.Voices,
		Numbers: objections.Numbers{Region: srv.Config.Numbers.Region}}, srv.IVR.Dialogue, srv.IVR.Prompts.lib, flows, calls, log)
	if err != nil {
		return err
	}
	srv.Mount(h.Routes)
	registerTwilioMetrics(srv.Metrics, h.Stats())
	srv.Go(func(ctx context.Context) { purgeCalls(ctx, calls, log) })
	log.Info("Twilio webhooks on", zap.String("public_url", public), zap.Bool("tts", len(cfg.Voices) > 0), zap.Int("tokens", len(tokens)))
	if srv.Demo {
		ready := srv.Ready
		srv.Ready = func(addr string) {
			if ready != nil {
				ready(addr)
			}
			base := public
			if base == "" {
				base = localURL(addr)
			}
			log.Info("twilio demo: in another shell, run",
				zap.String("command", demoCommand(base, dataDir)),
				zap.String("then", "verzet check +31612345678 --org "+org+" --data-dir "+shellQuote(dataDir)))
		}
	}
	return nil
}

// registerTwilioMetrics exports the webhook handler's counters.
func registerTwilioMetrics(reg prometheus.Registerer, st *twilio.Stats) {
	registerCounterFuncs(reg, []statFunc{
		{name: "verzet_twilio_webhooks_total", help: "Twilio webhooks that passed the signature check.", load: st.Webhooks.Load},
		{name: "verzet_twilio_rejected_total", help: "Twilio webhooks rejected with 403: signature missing or wrong.", load: st.Rejected.Load},
		{name: "verzet_twilio_refused_total", help: "Twilio webhooks refused with 400, 405, 413 or 415.", load: st.Refused.Load},
		{name: "verzet_twilio_conflicts_total", help: "Steps redone because another webhook of the call changed its record first.", load: st.Conflicts.Load},
		{name: "verzet_twilio_store_errors_total", help: "Call records that could not be read or saved.", load: st.StoreErrors.Load},
	})
}

// purgeCalls deletes call records a day after their last webhook, every
// hour: they hold the customer's number only for the call's sake.
func purgeCalls(ctx context.Context, calls twilioCalls, log *zap.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := calls.PurgeCalls(pctx, "twilio", time.Now().Add(-24*time.Hour))
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("purge of old call records failed; will retry", zap.Error(err))
		case n > 0:
			log.Info("old call records purged", zap.Int64("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// demoToken reads the demo auth token from the data dir, creating it
// (readable by the owner only) when create is set.
func demoToken(dataDir string, create bool) (string, error) {
	p := filepath.Join(dataDir, demoTokenFile)
	b, err := os.ReadFile(p)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if !create {
		if errors.Is(err, fs.ErrNotExist) {
			err = errors.New("no demo token: start verzet serve --demo with the same data dir first, or set VERZET_TWILIO_AUTH_TOKEN")
		} else if err == nil {
			err = errors.New("the file holds no token")
		}
		return "", objections.Invalid("VERZET_TWILIO_AUTH_TOKEN", "", "is not set, and %s: %v", p, err)
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	tok := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", objections.Invalid("VERZET_DATA_DIR", dataDir, "cannot be created for the demo token: %v", err)
	}
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		return "", objections.Invalid("VERZET_DATA_DIR", dataDir, "cannot hold the demo token: %v", err)
	}
	return tok, nil
}

// localURL turns a listen address into a URL a local client can use.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func demoCommand(base, dataDir string) string {
	return "verzet simulate twilio --url " + shellQuote(base) + " --to +31612345678 --keys 1 --data-dir " + shellQuote(dataDir)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+=,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (a *App) twilioCmd() *cobra.Command {
	return group("twilio", "Move a live Twilio call into the objection dialogue",
		"Tools for calls that run on Twilio.", groupTelephony, a.handoffCmd())
}

// handoffCmd is `verzet twilio handoff CALLSID`.
func (a *App) handoffCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "handoff CALLSID",
		Short: "Move the live call CALLSID into the objection dialogue (Twilio's REST API)",
		Long: `Moves the live call CALLSID (the customer's leg) into the objection dialogue: Twilio's REST
API (UpdateCall) makes it fetch VERZET_PUBLIC_URL/twilio/voice with the call's context from
the flags. Needs VERZET_PUBLIC_URL, VERZET_TWILIO_ACCOUNT_SID and VERZET_TWILIO_AUTH_TOKEN
(or VERZET_TWILIO_API_KEY and VERZET_TWILIO_API_SECRET). Changes nothing in the store: the
call records the offer and any objection.`,
		Example: `  verzet twilio handoff CA1f2e3d4c5b6a79880a1b2c3d4e5f6071 --org acme --campaign spring
  verzet twilio handoff "$CALLSID" --org acme --lang en --number "06 1234 5678" --announced`,
	}
	b := newBinding(a.env, cmd.Flags()).
		flags(&cfg.Twilio, "VERZET_TWILIO_AUTH_TOKEN", "VERZET_PUBLIC_URL", "VERZET_TWILIO_ACCOUNT_SID", "VERZET_TWILIO_API_KEY",
			"VERZET_TWILIO_API_SECRET", "VERZET_TWILIO_API_URL").
		flags(&cfg.Numbers).flags(&cfg.Prompts).envOnly(&cfg.Orgs, "VERZET_DEFAULT_ORG")
	ctxFlags := callContextFlags(cmd.Flags())
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("CALLSID", strings.Join(args, " "), "give exactly one call SID (CA…)")
		}
		org, err := cfg.Orgs.org(*ctxFlags.org)
		if err != nil {
			return exitFailure, err
		}
		query, err := ctxFlags.query(&cfg, org)
		if err != nil {
			return exitFailure, err
		}
		tw := cfg.Twilio
		if tw.PublicURL == "" {
			return exitFailure, objections.Invalid("VERZET_PUBLIC_URL", "", "is required: the base URL Twilio requests for verzet's webhooks")
		}
		token := ""
		if len(tw.AuthTokens) > 0 {
			token = tw.AuthTokens[0]
		}
		rc, err := twilio.NewRESTClient(twilio.RESTConfig{AccountSID: tw.AccountSID, AuthToken: token, APIKey: tw.APIKey, APISecret: tw.APISecret,
			HTTPClient: twilioAPIClient(tw.APIURL)})
		if err != nil {
			return exitFailure, err
		}
		voice := twilio.VoiceURL(tw.PublicURL, query)
		if err := twilio.Handoff(ctx, rc.Api, args[0], voice); err != nil {
			return exitFailure, err
		}
		fmt.Fprintf(a.stdout, "call %s handed off to %s\n", args[0], voice)
		return exitOK, nil
	})
}

// twilioAPIClient returns the HTTP client for Twilio's REST API: nil (the
// default) without a base URL, else one that sends every request there.
// twilio-go v1.31.0 has the API's host built in (its Edge and Region only
// change the part before twilio.com), so the transport rewrites each
// request's scheme and host, and puts the base URL's path in front.
func twilioAPIClient(base string) *http.Client {
	if base == "" {
		return nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil // TwilioConfig checked it when loaded
	}
	return &http.Client{Transport: apiBaseTransport{base: u, next: http.DefaultTransport}}
}

// apiBaseTransport sends each request to base instead of the host it names.
type apiBaseTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t apiBaseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host = t.base.Scheme, t.base.Host, ""
	out.URL.Path = strings.TrimSuffix(t.base.Path, "/") + r.URL.Path
	if r.URL.RawPath != "" {
		out.URL.RawPath = strings.TrimSuffix(t.base.EscapedPath(), "/") + r.URL.RawPath
	}
	return t.next.RoundTrip(out)
}

// contextFlags are the call context flags of handoff and simulate.
type contextFlags struct {
	org, agency, campaign, lead, agent, dialerCall, lang, number *string
	announced                                                    *bool
}

func callContextFlags(fs *pflag.FlagSet) contextFlags {
	return contextFlags{
		org:        fs.String("org", "", "the org whose objection it is (default VERZET_DEFAULT_ORG)"),
		agency:     fs.String("agency", "", "the agency (call centre) that makes the call for the org, if one does"),
		campaign:   fs.String("campaign", "", "the dialer's campaign id"),
		lead:       fs.String("lead", "", "the dialer's lead or contact id"),
		agent:      fs.String("agent", "", "the agent's id"),
		dialerCall: fs.String("dialer-call", "", "the dialer's own call id"),
		lang:       fs.String("lang", "", "prompt language (default the org's)"),
		number:     fs.String("number", "", "the customer's number, when Twilio's To/From is not it"),
		announced:  fs.Bool("announced", false, "the agent announced the option to object"),
	}
}

// query checks the flags and returns them as the voice URL's query.
func (f contextFlags) query(cfg *Config, org string) (url.Values, error) {
	q := url.Values{}
	if org != "" {
		o := strings.ToLower(org)
		if err := objections.ValidateOrgID(o); err != nil {
			return nil, err
		}
		q.Set("org", o)
	}
	if a := strings.ToLower(strings.TrimSpace(*f.agency)); a != "" {
		if err := objections.ValidateOrgID(a); err != nil {
			return nil, objections.Invalid("agency", a, "is not an org id: 1–64 lower-case letters, digits, '.', '-' and '_'")
		}
		q.Set("agency", a)
	}
	if *f.lang != "" {
		cat, err := loadCatalog(cfg.Prompts)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(cat.Languages(), strings.ToLower(*f.lang)) {
			return nil, objections.Invalid("lang", *f.lang, "is not a language of the prompt catalogue (%s)", strings.Join(cat.Languages(), ", "))
		}
		q.Set("lang", strings.ToLower(*f.lang))
	}
	if *f.number != "" {
		n, err := (objections.Numbers{Region: cfg.Numbers.Region}).Normalize(*f.number)
		if err != nil {
			return nil, err
		}
		q.Set("number", n)
	}
	for k, v := range map[string]string{"campaign": *f.campaign, "lead": *f.lead, "agent": *f.agent, "dialer_call": *f.dialerCall} {
		if len(v) > 256 {
			return nil, objections.Invalid(k, v[:32]+"…", "is longer than 256 characters")
		}
		if v != "" {
			q.Set(k, v)
		}
	}
	if *f.announced {
		q.Set("announced", "1")
	}
	return q, nil
}

func (a *App) simulateCmd() *cobra.Command {
	return group("simulate", "Play a provider's part in a call to verzet, to try the dialogue",
		"Simulators that play a telephony provider's part against a running verzet serve.", groupTelephony, a.simulateTwilioCmd())
}

// simulateTwilioCmd is `verzet simulate twilio`.
func (a *App) simulateTwilioCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "twilio --url BASE --to NUMBER",
		Short: "Play Twilio's part in a call to verzet's webhooks; print each TwiML step",
		Long: `Plays Twilio's part in a call to verzet's webhooks at BASE (VERZET_PUBLIC_URL of the
server): signed requests, <Gather> with the keys given, <Redirect>, the status callback. Prints
each TwiML step. Signs with VERZET_TWILIO_AUTH_TOKEN, or with the demo token that
'verzet serve --demo' keeps in the data dir. The server records what the call does.

Exit status: 0 when every webhook was answered, 1 when one was not, 2 on bad input.`,
		Example: `  verzet simulate twilio --url http://localhost:8080 --to +31612345678 --keys 1 --data-dir ./data
  verzet simulate twilio --url https://ivr.example.nl --to 0612345678 --keys ,2 --org acme --lang en`,
	}
	b := newBinding(a.env, cmd.Flags()).flags(&cfg.Store, "VERZET_DATA_DIR").flags(&cfg.Numbers).
		envOnly(&cfg.Twilio, "VERZET_TWILIO_AUTH_TOKEN").envOnly(&cfg.Prompts).envOnly(&cfg.Orgs, "VERZET_DEFAULT_ORG")
	fs := cmd.Flags()
	base := fs.String("url", "", "verzet's base URL as Twilio requests it (required)")
	to := fs.String("to", "", "the called number (required): the customer on an outbound call")
	from := fs.String("from", "+31201234567", "the calling number: the call centre on an outbound call, the customer on an inbound one (anonymous: withheld)")
	direction := fs.String("direction", "outbound-api", "inbound, outbound-api or outbound-dial")
	keys := fs.String("keys", "", "the key pressed at each gather, comma-separated; empty entries press nothing (7,1 or ,1)")
	listen := fs.Bool("listen", false, "wait in real time while the prompts play and the gathers time out")
	hangupAt := fs.Int("hangup-at", 0, "hang up during this gather (1 is the first) instead of answering it")
	noStatus := fs.Bool("no-status", false, "send no status callback at the end")
	callSid := fs.String("call-sid", "", "the CallSid (default a random one)")
	ctxFlags := callContextFlags(fs)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "simulate twilio takes flags only")
		}
		if *base == "" {
			return exitFailure, objections.Invalid("url", "", "is required: verzet's base URL, e.g. http://localhost:8080")
		}
		public, err := twilio.ParsePublicURL(*base)
		if err != nil {
			return exitFailure, objections.Invalid("url", *base, "must be an absolute http(s) URL without query, e.g. http://localhost:8080")
		}
		if err := oneOf("direction", *direction, "inbound", "outbound-api", "outbound-dial"); err != nil {
			return exitFailure, err
		}
		nums := objections.Numbers{Region: cfg.Numbers.Region}
		for _, n := range []struct {
			field string
			v     *string
		}{{"to", to}, {"from", from}} {
			switch {
			case *n.v == "" && n.field == "to":
				return exitFailure, objections.Invalid("to", "", "is required: the called number, e.g. +31612345678")
			case strings.EqualFold(*n.v, "anonymous"):
			default:
				e164, err := nums.Normalize(*n.v)
				if err != nil {
					return exitFailure, objections.Invalid(n.field, *n.v, "is not a phone number")
				}
				*n.v = e164
			}
		}
		var script []string
		if *keys != "" {
			script = strings.Split(*keys, ",")
			for _, k := range script {
				if k != "" && !objections.ValidDigit(k) {
					return exitFailure, objections.Invalid("keys", *keys, "must be single keys (0-9, *, #) separated by commas, e.g. 1 or 7,1")
				}
			}
		}
		if *hangupAt < 0 {
			return exitFailure, objections.Invalid("hangup-at", fmt.Sprint(*hangupAt), "must be 0 (never) or a gather number")
		}
		if *callSid != "" && (len(*callSid) != 34 || !strings.HasPrefix(*callSid, "CA")) {
			return exitFailure, objections.Invalid("call-sid", *callSid, "must be CA followed by 32 hex digits")
		}
		org := *ctxFlags.org
		if org == "" {
			org = cfg.Orgs.Default // the server falls back to its own default otherwise
		}
		query, err := ctxFlags.query(&cfg, org)
		if err != nil {
			return exitFailure, err
		}
		token := ""
		if t := cfg.Twilio.AuthTokens; len(t) > 0 {
			token = t[0]
		} else if token, err = demoToken(cfg.Store.DataDir, false); err != nil {
			return exitFailure, err
		}
		sim := &twiliotest.Simulator{AuthToken: token, Client: &http.Client{Timeout: 15 * time.Second}}
		if *listen {
			sim.Sleep = time.Sleep
		}
		call := twiliotest.Call{VoiceURL: twilio.VoiceURL(public, query), CallSid: *callSid, From: *from, To: *to, Direction: *direction,
			Keys: script, Listen: *listen, HangupAt: *hangupAt}
		if !*noStatus {
			call.StatusURL = public + twilio.PathStatus
		}
		tr, err := sim.Run(ctx, call)
		fmt.Fprint(a.stdout, tr)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				return exitFailure, objections.Invalid("url", *base, "cannot be reached: %v", ue.Err)
			}
			fmt.Fprintf(a.stderr, "verzet %v\n", err)
			return exitNo, nil
		}
		return exitOK, nil
	})
}
