package twilio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twilio/twilio-go/client"
	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// The endpoints. Twilio requests the webhook paths with POST; the prompt
// audio is fetched with GET.
const (
	PathVoice   = "/twilio/voice"
	PathGather  = "/twilio/gather"
	PathStatus  = "/twilio/status"
	PathPrompts = "/prompts/"
)

// MaxBody is the largest webhook body accepted (413 above it). Twilio's
// voice requests are a few KiB.
const MaxBody = 64 << 10

// Config is the adapter's configuration, validated by New.
type Config struct {
	// AuthTokens are the auth tokens of the Twilio account (of the
	// sub-account, when the numbers live there). Twilio signs every
	// request with the account's token; during a token rotation give the
	// primary and the secondary. At least one is required.
	AuthTokens []string
	// PublicURL is verzet's base URL as Twilio requests it
	// (https://ivr.example.nl, or with a path prefix that a proxy strips):
	// signatures are checked against PublicURL + the request's path and
	// query, and action and audio URLs start with it. Empty derives it
	// from each request's scheme and Host header, which is only right
	// without a proxy in between (serve --demo on one machine).
	PublicURL string
	// DefaultOrg is the org of calls whose voice URL names none.
	DefaultOrg string
	// Voices, when set for a language (or for "", every language), makes
	// the prompts <Say> their text with Twilio's text-to-speech instead
	// of <Play>ing the catalogue audio, for orgs that choose no voice of
	// their own (objections.IVRSettings.TwilioVoices). See ParseVoices.
	Voices map[string]Voice
	// Numbers normalises the number query parameter and Twilio's From/To.
	Numbers objections.Numbers
	// StoreTimeout bounds each load and save of a call record (default 3 s).
	StoreTimeout time.Duration
	// RequestTimeout bounds one webhook (default 10 s; Twilio gives up
	// after 15 s and the caller hears silence until then).
	RequestTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Catalog is what the handler needs of the prompt catalogue.
// *prompts.Catalog satisfies it.
type Catalog interface {
	Languages() []string
	Sound(name string) (prompts.Sound, error)
}

// Flows returns the dialogue flow for an org and the language to speak:
// lang when it is given, else the org's.
type Flows func(ctx context.Context, org, lang string) (ivr.Flow, string)

// Stats counts the webhooks. Read with the Load methods.
type Stats struct {
	Webhooks    atomic.Int64 // requests that passed the signature check
	Rejected    atomic.Int64 // 403: missing or wrong signature
	Refused     atomic.Int64 // 400, 405, 413, 415
	Conflicts   atomic.Int64 // optimistic-concurrency retries
	StoreErrors atomic.Int64 // call records that could not be read or saved
}

// Handler is the Twilio Programmable Voice adapter: the webhooks that drive
// one ivr dialogue per call, and the prompt audio that its TwiML plays.
//
// Every webhook is checked with twilio-go's client.RequestValidator before
// any of its values is parsed: the signature in X-Twilio-Signature must
// match PublicURL + the request's path and query (exactly as received) and
// the raw body. A missing or wrong signature gets 403 and changes nothing.
// The checks before it read none of the request's values either: 405 for
// a method other than POST, 415 for a body that is not
// application/x-www-form-urlencoded, 413 for a body over 64 KiB.
//
// The endpoints:
//
//   - POST /twilio/voice starts the dialogue on the customer's leg (the
//     <Dial action> after the agent hung up, a REST redirect, or a
//     number's voice URL) and answers the offer inside a <Gather>.
//   - POST /twilio/gather takes the key (Digits), or the no-key <Redirect>
//     (no Digits), and answers the next TwiML: the confirmation and
//     <Hangup/> once the objection is durable, "not valid" and the offer
//     again, the repeat, or goodbye.
//   - POST /twilio/status is the call's status callback: when the call
//     ended mid-dialogue it closes the offer (hangup_during_prompt with
//     the ms heard). It answers 204.
//   - GET /prompts/{lang}/{name}.wav serves the catalogue's audio. It needs
//     no signature and no auth: Twilio fetches <Play> URLs without
//     credentials, and the files are the catalogue's prompts, the same
//     for every caller. Only names of catalogue sounds resolve; there is
//     no listing and no other file.
//
// The call's record (dialogue state, context, and the TwiML answered per
// step) is kept in the store by CallSid, so any instance can take any
// webhook; two webhooks of one call racing each other are serialised by
// the record's version (the loser loads again and redoes its step). The
// action URLs carry step=N: a webhook for a step already answered (a
// retry) gets the same TwiML again and records nothing twice; the
// objection and the offer are idempotent per CallSid in the store too.
//
// An unknown CallSid at /twilio/gather (its record is gone, or the store
// could not be read) resumes the call from the context on the action URL,
// as if the offer had just been served: a key is applied as a barge-in
// with 0 ms of the offer known to be heard — the objection key records the
// objection, so the key press is never lost — and no key repeats the
// offer. A status callback for an unknown call changes nothing.
type Handler struct {
	cfg        Config
	validators []client.RequestValidator
	dialogue   *ivr.Dialogue
	catalog    Catalog
	langs      []string
	flows      Flows
	calls      Calls
	log        *zap.Logger
	stats      Stats
	mux        *http.ServeMux
	soundTags  sync.Map // sound name → short content hash, for cache-busting audio URLs
}

// New returns the handler. EINVALID when cfg has no auth token or a bad
// PublicURL.
func New(cfg Config, d *ivr.Dialogue, cat Catalog, flows Flows, calls Calls, log *zap.Logger) (*Handler, error) {
	if len(cfg.AuthTokens) == 0 || slices.Contains(cfg.AuthTokens, "") {
		return nil, objections.Invalid("VERZET_TWILIO_AUTH_TOKEN", "", "is required to check Twilio's signatures")
	}
	if cfg.PublicURL != "" {
		u, err := ParsePublicURL(cfg.PublicURL)
		if err != nil {
			return nil, err
		}
		cfg.PublicURL = u
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = 3 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, dialogue: d, catalog: cat, langs: cat.Languages(), flows: flows, calls: calls,
		log: log.With(zap.String("provider", provider))}
	for _, t := range cfg.AuthTokens {
		h.validators = append(h.validators, client.NewRequestValidator(t))
	}
	h.mux = http.NewServeMux()
	h.Routes(h.mux)
	return h, nil
}

// ParsePublicURL checks a public base URL: absolute http or https, without
// query, fragment or credentials. It returns it without a trailing slash.
// EINVALID names VERZET_PUBLIC_URL.
func ParsePublicURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		return "", objections.Invalid("VERZET_PUBLIC_URL", s, "is not a URL: %v", err)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return "", objections.Invalid("VERZET_PUBLIC_URL", s, "must be an absolute http(s) URL such as https://ivr.example.nl")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", objections.Invalid("VERZET_PUBLIC_URL", s, "must not have a query, fragment or credentials")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// VoiceURL is the voice webhook URL under publicURL with the call's context
// (org, campaign, lead, agent, dialer_call, announced, lang, number) as
// its query.
func VoiceURL(publicURL string, query url.Values) string {
	u := strings.TrimSuffix(publicURL, "/") + PathVoice
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// Routes adds the endpoints to mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle(PathVoice, h.webhook(h.voice))
	mux.Handle(PathGather, h.webhook(h.gather))
	mux.Handle(PathStatus, h.webhook(h.status))
	mux.HandleFunc("GET "+PathPrompts, h.sound)
}

// ServeHTTP serves the endpoints.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Stats returns the handler's counters.
func (h *Handler) Stats() *Stats { return &h.stats }

func (h *Handler) now() time.Time { return h.cfg.Now().UTC() }

// request is one verified webhook.
type request struct {
	base  string // the public base URL it was requested under
	hook  webhook
	query url.Values
}

type webhookFunc func(ctx context.Context, w http.ResponseWriter, req request)

// webhook checks method, content type, size and signature, in that order
// and before any value is parsed, then decodes the form and the query.
func (h *Handler) webhook(fn webhookFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			h.refuse(w, r.URL.Path, http.StatusMethodNotAllowed, fmt.Sprintf("method %s: Twilio's webhooks to verzet must use POST", r.Method))
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
			h.refuse(w, r.URL.Path, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: want application/x-www-form-urlencoded", clip(r.Header.Get("Content-Type"))))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.refuse(w, r.URL.Path, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", MaxBody))
				return
			}
			h.refuse(w, r.URL.Path, http.StatusBadRequest, "body could not be read")
			return
		}
		base := h.baseURL(r)
		signed := base + r.URL.RequestURI()
		if sig := r.Header.Get("X-Twilio-Signature"); sig == "" {
			h.reject(w, r, "X-Twilio-Signature is missing", "")
			return
		} else if !h.valid(signed, body, sig) {
			h.reject(w, r, "X-Twilio-Signature does not match", fmt.Sprintf(" %s and the body with the configured auth token "+
				"(is VERZET_PUBLIC_URL the base URL Twilio requests?)", signed))
			return
		}
		h.stats.Webhooks.Add(1)
		hook, err := parseWebhook(body)
		if err != nil {
			h.invalid(w, r.URL.Path, err)
			return
		}
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			h.invalid(w, r.URL.Path, objections.Invalid("query", clip(r.URL.RawQuery), "is malformed: %v", err))
			return
		}
		// Detached from the request: when Twilio gives up on it (or the
		// connection drops), the step still completes as one, so that a
		// retry finds it answered instead of half done.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.cfg.RequestTimeout)
		defer cancel()
		fn(ctx, w, request{base: base, hook: hook, query: query})
	})
}

func (h *Handler) valid(signed string, body []byte, sig string) bool {
	for i := range h.validators {
		if h.validators[i].ValidateBody(signed, body, sig) {
			return true
		}
	}
	return false
}

// baseURL is the public base URL of r: PublicURL, or (without one) the
// scheme and Host r arrived with: https over TLS or with X-Forwarded-Proto
// https. The server in front of the handler (cmd/verzet) keeps that header,
// and sets Host from X-Forwarded-Host, only for a request from a trusted
// proxy. Behind a proxy, set PublicURL all the same.
func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.PublicURL != "" {
		return h.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// reject answers 403: the reason, then detail for the caller (the URL it
// was checked against, which may hold a number: not logged). Nothing of
// the request was parsed or stored.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, reason, detail string) {
	h.stats.Rejected.Add(1)
	h.log.Warn("twilio webhook rejected", zap.String("path", r.URL.Path), zap.String("reason", reason))
	plain(w, http.StatusForbidden, reason+detail)
}

// refuse answers a 4xx other than 403 with msg, which holds no request
// values.
func (h *Handler) refuse(w http.ResponseWriter, path string, status int, msg string) {
	h.stats.Refused.Add(1)
	h.log.Warn("twilio request refused", zap.String("path", path), zap.Int("status", status), zap.String("reason", msg))
	plain(w, status, msg)
}

// invalid answers 400 with the error's message, which names the field and
// the value. The log names the field only: the value may be a number.
func (h *Handler) invalid(w http.ResponseWriter, path string, err error) {
	h.stats.Refused.Add(1)
	field := ""
	var e *objections.Error
	if errors.As(err, &e) {
		field = e.Field
	}
	h.log.Warn("twilio request refused: invalid value", zap.String("path", path), zap.String("field", field))
	plain(w, http.StatusBadRequest, objections.ErrorMessage(err))
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "verzet: %s\n", msg)
}

func writeTwiML(w http.ResponseWriter, doc []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc) // Twilio went away; it retries or gives up
}

// callLog is the per-call child logger: the number masked.
func (h *Handler) callLog(sid, org, number string) *zap.Logger {
	return h.log.With(zap.String("call_ref", sid), zap.String("org", org), zap.String("number", objections.MaskNumber(number)))
}

// actionURL is the URL of the gather webhook for step.
func actionURL(base, query string, step int) string {
	u := base + PathGather + "?"
	if query != "" {
		u += query + "&"
	}
	return u + "step=" + strconv.Itoa(step)
}

// soundPrefix starts every catalogue sound name.
const soundPrefix = "verzet/"

// soundURL is the public URL of a catalogue sound. Its v parameter changes
// with the audio, so that Twilio's audio cache never plays an old recording.
func (h *Handler) soundURL(base string, s prompts.Sound) string {
	tag, ok := h.soundTags.Load(s.Name)
	if !ok {
		sum := sha256.Sum256(s.Audio)
		tag, _ = h.soundTags.LoadOrStore(s.Name, hex.EncodeToString(sum[:6]))
	}
	segs := strings.Split(strings.TrimPrefix(s.Name, soundPrefix), "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return base + PathPrompts + strings.Join(segs, "/") + ".wav?v=" + tag.(string)
}

// sound serves one catalogue sound as audio/wav.
func (h *Handler) sound(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, PathPrompts)
	name, ok := strings.CutSuffix(rest, ".wav")
	if !ok || name == "" || strings.Contains(name, "..") || strings.Contains(name, "//") || strings.HasPrefix(name, "/") {
		plain(w, http.StatusNotFound, fmt.Sprintf("prompt sound %q: not a catalogue sound (want /prompts/{lang}/{name}.wav)", clip(rest)))
		return
	}
	s, err := h.catalog.Sound(soundPrefix + name)
	if err != nil {
		plain(w, http.StatusNotFound, fmt.Sprintf("prompt sound %q: not in the catalogue", clip(rest)))
		return
	}
	sum := sha256.Sum256(s.Audio)
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(s.Audio)))
}

// context reads the call's context from the query and Twilio's
// parameters: the org (or DefaultOrg) and the customer's number (the
// number parameter, or To on outbound legs and From on inbound ones).
// EINVALID names a bad query parameter.
func (h *Handler) context(req request, extra ...string) (callParams, callInfo, error) {
	p, err := parseParams(req.query, h.langs, h.cfg.Numbers, extra...)
	if err != nil {
		return p, callInfo{}, err
	}
	if p.Org == "" {
		p.Org = h.cfg.DefaultOrg
	}
	if p.Org == "" {
		return p, callInfo{}, objections.Invalid("org", "", "is missing: put ?org=… on the voice URL or set VERZET_DEFAULT_ORG")
	}
	customer, presented := customerNumber(req.hook)
	if p.Number != "" {
		customer = p.Number
	} else if n, err := h.cfg.Numbers.Normalize(customer); err == nil {
		customer = n
	}
	// An unusable customer number goes on as received: the keeper keeps
	// the objection as pending_number with the raw value as a note. The
	// presented number is only evidence: unusable, it is left out.
	if n, err := h.cfg.Numbers.Normalize(presented); err == nil {
		presented = n
	} else {
		presented = ""
	}
	return p, callInfo{Org: p.Org, Agency: p.Agency, Number: customer, Presented: presented, Lang: p.Lang, Campaign: p.Campaign, Lead: p.Lead,
		Agent: p.Agent, DialerCall: p.DialerCall, Announced: p.Announced}, nil
}

// withFlow adds the org's flow and language to a new call's context, and
// the query of its action URLs: the context as given, with the org and
// the language resolved, so that every webhook of the call carries it.
func (h *Handler) withFlow(ctx context.Context, p callParams, info callInfo) (callInfo, ivr.Flow) {
	flow, lang := h.flows(ctx, info.Org, info.Lang)
	// TwiML has no dialplan to hand the call back to: the dialogue ends
	// with <Hangup/> whatever the org's after-dialogue setting.
	flow.Continue = false
	flow.Voice = h.voiceFor(flow.Voices, lang)
	info.Lang, p.Org, p.Lang = lang, info.Org, lang
	info.Query = p.query().Encode()
	return info, flow
}

// voice starts the dialogue: the offer inside a <Gather>. A repeated voice
// webhook for a call that has a record (Twilio's retry, or the call sent
// to the voice URL again) answers the TwiML last answered. A customer leg
// that has already ended (a <Dial action> after the customer hung up)
// gets an empty <Response/>, and the offer is closed as
// hangup_during_prompt with nothing played.
func (h *Handler) voice(ctx context.Context, w http.ResponseWriter, req request) {
	p, info, err := h.context(req)
	if err != nil {
		h.invalid(w, PathVoice, err)
		return
	}
	sid := req.hook.CallSid
	log := h.callLog(sid, info.Org, info.Number)
	now := h.now()
	doc := h.apply(ctx, log, sid, func(cur *callRecord) (*callRecord, []byte) {
		if cur != nil {
			log.Debug("voice webhook for a known call: answering the latest TwiML", zap.Int("step", cur.Next))
			return nil, cur.latest()
		}
		info, flow := h.withFlow(ctx, p, info)
		rec := newRecord(info, flow)
		ev := ivr.Event{Kind: ivr.EvStart, At: now}
		ended := terminal(req.hook.CallStatus)
		if ended {
			ev = ivr.Event{Kind: ivr.EvHangup, At: now}
		}
		s, reply := h.dialogue.Turn(ctx, rec.machine(sid), ivr.State{}, ev)
		rec.State = s
		doc := emptyDocument()
		if !ended {
			doc = h.document(req.base, reply, actionURL(req.base, info.Query, 1))
		}
		rec.served(0, doc, reply, now)
		log.Info("twilio dialogue started", zap.String("lang", info.Lang), zap.String("call_status", req.hook.CallStatus))
		return rec, doc
	})
	writeTwiML(w, doc)
}

// gather applies one step: the key pressed, or no key.
func (h *Handler) gather(ctx context.Context, w http.ResponseWriter, req request) {
	p, info, err := h.context(req, "step")
	if err == nil {
		err = checkStep(req.query.Get("step"))
	}
	if err != nil {
		h.invalid(w, PathGather, err)
		return
	}
	step, _ := strconv.Atoi(req.query.Get("step"))
	sid, digits := req.hook.CallSid, req.hook.Digits
	log := h.callLog(sid, info.Org, info.Number)
	now := h.now()
	doc := h.apply(ctx, log, sid, func(cur *callRecord) (*callRecord, []byte) {
		if cur == nil {
			log.Warn("gather webhook for an unknown call: resuming from the action URL's context", zap.Int("step", step))
			info, flow := h.withFlow(ctx, p, info)
			return h.resume(ctx, sid, info, flow, step, now), nil
		}
		if step < cur.Next {
			log.Debug("gather webhook for a step already answered: answering it again", zap.Int("step", step))
			return nil, cur.reply(step)
		}
		rec := cur.clone()
		s, reply := h.dialogue.Turn(ctx, rec.machine(sid), rec.State, rec.events(digits, now)...)
		rec.State = s
		doc := h.document(req.base, reply, actionURL(req.base, rec.Call.Query, step+1))
		rec.served(step, doc, reply, now)
		switch {
		case cur.State.Phase != ivr.PhaseDone && s.Phase == ivr.PhaseDone:
			log.Info("twilio dialogue ended", zap.String("outcome", string(s.Outcome)), zap.Int64("played_ms", s.OfferMS))
		case cur.State.Phase == ivr.PhaseDone && s.ObjectionID != cur.State.ObjectionID:
			log.Warn("objection key arrived after the call ended; objection recorded", zap.String("objection_id", s.ObjectionID))
		}
		return rec, doc
	})
	writeTwiML(w, doc)
}

func checkStep(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return objections.Invalid("step", clip(s), "must be the step number verzet put on its action URL (1, 2, …)")
	}
	return nil
}

// events turns a gather webhook into dialogue events. Twilio plays the
// gathered prompts to their end unless a key stops them: a key that
// arrived before the offer could have ended is a barge-in (the key, then
// the offer stopped at the ms estimated from the time since the TwiML was
// served); otherwise the offer ended in full, then the key or the
// timeout. After the dialogue ended the key is a late one: a caller who
// pressed the objection key and hung up at once can have the status
// callback overtake the gather webhook, and the machine still records the
// objection.
func (r *callRecord) events(digits string, now time.Time) []ivr.Event {
	if r.State.Phase == ivr.PhaseDone {
		if digits == "" {
			return nil
		}
		return []ivr.Event{{Kind: ivr.EvLateDigit, At: now, Digit: digits}}
	}
	var ended []ivr.Event
	if r.Gathering {
		ended = []ivr.Event{{Kind: ivr.EvPromptEnded, At: now, Prompt: prompts.Offer, PlayedMS: r.OfferMS}}
	}
	if digits == "" {
		return append(ended, ivr.Event{Kind: ivr.EvTimeout, At: now})
	}
	key := ivr.Event{Kind: ivr.EvDigit, At: now, Digit: digits}
	if ms, playing := r.heard(now); r.Gathering && playing {
		return []ivr.Event{key, {Kind: ivr.EvPromptEnded, At: now, Prompt: prompts.Offer, PlayedMS: ms}}
	}
	return append(ended, key)
}

// resume starts the record of a call verzet has no state of, at a gather
// webhook for step: a fresh dialogue whose offer was just served.
func (h *Handler) resume(ctx context.Context, sid string, info callInfo, flow ivr.Flow, step int, now time.Time) *callRecord {
	rec := newRecord(info, flow)
	rec.Resumed = true
	s, reply := h.dialogue.Turn(ctx, rec.machine(sid), ivr.State{}, ivr.Event{Kind: ivr.EvStart, At: now})
	rec.State, rec.Next = s, step
	// ServedAt stays zero: the timing is unknown, so a key is a barge-in
	// with 0 ms of the offer known to be heard.
	rec.timing(reply)
	return rec
}

// status applies a status callback: a call that ended mid-dialogue closes
// its offer. Callbacks are applied in SequenceNumber order: one with a
// number not above the last applied (a duplicate, or one overtaken by a
// later one) changes nothing.
func (h *Handler) status(ctx context.Context, w http.ResponseWriter, req request) {
	sid, hook := req.hook.CallSid, req.hook
	log := h.log.With(zap.String("call_ref", sid))
	now := h.now()
	h.apply(ctx, log, sid, func(cur *callRecord) (*callRecord, []byte) {
		if cur == nil {
			log.Debug("status callback for an unknown call: ignored", zap.String("call_status", hook.CallStatus))
			return nil, nil
		}
		if hook.SequenceNumber >= 0 && hook.SequenceNumber <= cur.StatusSeq {
			log.Debug("status callback duplicate or out of order: ignored", zap.Int64("sequence", hook.SequenceNumber))
			return nil, nil
		}
		if cur.State.Phase == ivr.PhaseDone {
			return nil, nil // nothing left to change
		}
		rec := cur.clone()
		rec.StatusSeq = max(rec.StatusSeq, hook.SequenceNumber)
		if terminal(hook.CallStatus) {
			at := now
			if ts := hook.Timestamp; ts.Before(now) && !ts.Before(rec.ServedAt) {
				// When the call ended, not when the callback arrived. It has
				// whole seconds: the estimate errs on the side of less heard.
				// A timestamp before the TwiML was served (another clock) is
				// not used: the offer must not end before it began.
				at = ts
			}
			ms, _ := rec.heard(at)
			by := objections.EndedByCaller
			if hook.CallStatus != "completed" {
				by = objections.EndedByProvider
			}
			rec.State, _ = h.dialogue.Turn(ctx, rec.machine(sid), rec.State, ivr.Event{Kind: ivr.EvHangup, At: at, PlayedMS: ms, By: by})
			log.Info("twilio call ended during the dialogue", zap.String("call_status", hook.CallStatus),
				zap.String("outcome", string(rec.State.Outcome)), zap.Int64("played_ms", rec.State.OfferMS))
		}
		return rec, []byte{}
	})
	w.WriteHeader(http.StatusNoContent)
}
