package twiliotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// Simulator plays Twilio's part in a call to verzet's webhooks, for demos,
// smoke tests, integrators' own checks and load tests: it posts the voice
// webhook, signs every request exactly as Twilio does (Sign, checked by
// twilio-go's validator), fetches the <Play> audio, follows <Gather> with
// the scripted keys — or falls through to the next verb when the caller
// presses nothing, as Twilio does on a timeout — and <Redirect>, stops at
// <Hangup/> or the end of the document, and sends the status callback.
// It is safe for concurrent use; Run simulates one call.
type Simulator struct {
	// AuthToken signs the requests.
	AuthToken string
	// Client sends them (default: a client with Twilio's 15 s limit).
	Client *http.Client
	// Sleep lets time pass while prompts play and gathers wait (nil: no
	// waiting, every key arrives at once — a barge-in — and a gather
	// without a key times out at once).
	Sleep func(time.Duration)
	// Now stamps the status callbacks (default time.Now).
	Now func() time.Time

	audio sync.Map // audio URL → duration, as Twilio caches audio
}

// Call is the call a Simulator plays.
type Call struct {
	// VoiceURL is the voice webhook with the call's context, e.g.
	// https://ivr.example.nl/twilio/voice?org=acme&campaign=spring.
	VoiceURL string
	// StatusURL receives the status callback when the call ends ("": none).
	StatusURL string
	// CallSid and AccountSid are generated when empty.
	CallSid, AccountSid string
	// From and To are Twilio's parameters; Direction defaults to
	// outbound-api (a dialer's call: To is the customer).
	From, To, Direction string
	// Keys answer the successive <Gather>s: a key, or "" to press nothing.
	// Gathers after the last key get nothing.
	Keys []string
	// Listen makes the caller hear a gather's prompts to their end before
	// keying (with Sleep); otherwise the key interrupts them at once, or
	// after KeyDelay.
	Listen   bool
	KeyDelay time.Duration
	// HangupAt makes the caller hang up during that gather (1 is the
	// first) instead of answering it; 0 never.
	HangupAt int
	// StatusSequence is the SequenceNumber of the final status callback
	// (default 3: initiated, ringing and answered came before).
	StatusSequence int
}

// Step is one request of a simulated call and its answer.
type Step struct {
	Method string
	URL    string
	// Params are the form parameters that differ from the call's
	// standard ones (Digits, CallStatus, …).
	Params      url.Values
	Status      int
	ContentType string
	Body        []byte
	Latency     time.Duration
	// Verbs is the TwiML answered, parsed; Notes say what the simulated
	// caller and Twilio did with it.
	Verbs []Verb
	Notes []string
}

// Verb is one TwiML verb as the simulator understood it.
type Verb struct {
	Name  string            // Gather, Play, Say, Pause, Redirect, Hangup
	Attrs map[string]string // its attributes
	Text  string            // the URL of Play and Redirect, the text of Say
	// Duration is the playing time: of the audio for Play, estimated for
	// Say, length for Pause, the sum of its children for Gather.
	Duration time.Duration
	Children []Verb
}

// Transcript is the record of one simulated call.
type Transcript struct {
	CallSid   string
	From, To  string
	Direction string
	Steps     []Step
	// End says how the call ended: "hangup" (<Hangup/>), "end of
	// document", "caller hung up", "step limit".
	End string
}

// maxDocument bounds the TwiML read from one answer: Twilio's own limit
// on a TwiML document is 64 KB.
const maxDocument = 64 << 10

// promptsPath is where verzet serves the prompt audio (twilio.PathPrompts;
// a test checks they agree). The package does not import twilio, so that
// twilio's own tests can use it.
const promptsPath = "/prompts/"

// maxSteps ends a call whose TwiML loops.
const maxSteps = 30

// Run plays one call. It returns the transcript so far and an error when
// a request fails, an answer is not 2xx, or a document is not TwiML.
func (s *Simulator) Run(ctx context.Context, c Call) (*Transcript, error) {
	if c.CallSid == "" {
		c.CallSid = "CA" + randomHex(16)
	}
	if c.AccountSid == "" {
		c.AccountSid = "AC" + randomHex(16)
	}
	if c.Direction == "" {
		c.Direction = "outbound-api"
	}
	if c.StatusSequence == 0 {
		c.StatusSequence = 3
	}
	t := &Transcript{CallSid: c.CallSid, From: c.From, To: c.To, Direction: c.Direction}
	run := simRun{sim: s, call: c, t: t}
	err := run.play(ctx)
	if err == nil && c.StatusURL != "" {
		err = run.status(ctx)
	}
	return t, err
}

type simRun struct {
	sim     *Simulator
	call    Call
	t       *Transcript
	gathers int
}

func (r *simRun) play(ctx context.Context) error {
	step, doc, err := r.post(ctx, r.call.VoiceURL, nil)
	if err != nil {
		return err
	}
	for len(r.t.Steps) < maxSteps {
		next, extra, done, err := r.execute(step, doc)
		if err != nil || done {
			return err
		}
		if next == "" {
			step.Notes = append(step.Notes, "end of document: Twilio ends the call")
			r.t.End = "end of document"
			return nil
		}
		if step, doc, err = r.post(ctx, next, extra); err != nil {
			return err
		}
	}
	r.t.End = "step limit"
	return fmt.Errorf("simulate: more than %d webhooks: the TwiML loops", maxSteps)
}

// execute runs a document's verbs in order, as Twilio does. It returns the
// URL to request next (with extra parameters), or done when the call ended.
func (r *simRun) execute(step *Step, doc []Verb) (next string, extra url.Values, done bool, err error) {
	for _, v := range doc {
		switch v.Name {
		case "Play", "Say", "Pause":
			r.wait(v.Duration, r.call.Listen)
		case "Gather":
			r.gathers++
			if r.call.HangupAt == r.gathers {
				r.wait(v.Duration/2, true)
				step.Notes = append(step.Notes, "caller hangs up during the prompt")
				r.t.End = "caller hung up"
				return "", nil, true, nil
			}
			key := ""
			if r.gathers <= len(r.call.Keys) {
				key = r.call.Keys[r.gathers-1]
			}
			if key != "" {
				if r.call.Listen {
					r.wait(v.Duration, true)
				} else {
					r.wait(r.call.KeyDelay, true)
				}
				step.Notes = append(step.Notes, "caller presses "+key)
				action := v.Attrs["action"]
				if action == "" {
					action = step.URL // Twilio's default: the current document
				}
				return resolve(step.URL, action), url.Values{"Digits": {key}, "FinishedOnKey": {""}, "msg": {"Gather End"}}, false, nil
			}
			timeout, _ := strconv.Atoi(v.Attrs["timeout"])
			if timeout == 0 {
				timeout = 5
			}
			r.wait(v.Duration+time.Duration(timeout)*time.Second, true)
			step.Notes = append(step.Notes, "no key: the gather times out and Twilio goes on with the next verb")
		case "Redirect":
			return resolve(step.URL, v.Text), nil, false, nil
		case "Hangup":
			r.t.End = "hangup"
			step.Notes = append(step.Notes, "Twilio hangs up")
			return "", nil, true, nil
		default:
			return "", nil, false, fmt.Errorf("simulate: %s answered a <%s>, which verzet's dialogue does not use", step.URL, v.Name)
		}
	}
	return "", nil, false, nil
}

func (r *simRun) wait(d time.Duration, listen bool) {
	if listen && r.sim.Sleep != nil && d > 0 {
		r.sim.Sleep(d)
	}
}

// params are the parameters of every voice request of the call, in the
// shape of Twilio's (twilio-fixtures/01).
func (r *simRun) params() url.Values {
	c := r.call
	return url.Values{
		"AccountSid": {c.AccountSid}, "ApiVersion": {"2010-04-01"}, "CallSid": {c.CallSid}, "CallStatus": {"in-progress"},
		"Called": {c.To}, "CalledCity": {""}, "CalledCountry": {country(c.To)}, "CalledState": {""}, "CalledZip": {""},
		"Caller": {c.From}, "CallerCity": {""}, "CallerCountry": {country(c.From)}, "CallerState": {""}, "CallerZip": {""},
		"Direction": {c.Direction}, "From": {c.From}, "FromCity": {""}, "FromCountry": {country(c.From)}, "FromState": {""}, "FromZip": {""},
		"To": {c.To}, "ToCity": {""}, "ToCountry": {country(c.To)}, "ToState": {""}, "ToZip": {""},
	}
}

func country(n string) string {
	if strings.HasPrefix(n, "+31") {
		return "NL"
	}
	return ""
}

// post sends one signed webhook and parses the TwiML answered.
func (r *simRun) post(ctx context.Context, target string, extra url.Values) (*Step, []Verb, error) {
	form := r.params()
	for k, v := range extra {
		form[k] = v
	}
	step, err := r.sim.send(ctx, target, form, extra)
	r.t.Steps = append(r.t.Steps, step)
	st := &r.t.Steps[len(r.t.Steps)-1]
	if err != nil {
		return st, nil, err
	}
	if st.Status != http.StatusOK {
		return st, nil, fmt.Errorf("simulate: %s answered %d: %s", target, st.Status, strings.TrimSpace(string(st.Body)))
	}
	if mt, _, _ := mime.ParseMediaType(st.ContentType); mt != "text/xml" && mt != "application/xml" {
		return st, nil, fmt.Errorf("simulate: %s answered Content-Type %q; Twilio wants text/xml (error 12300)", target, st.ContentType)
	}
	verbs, err := ParseTwiML(st.Body)
	if err != nil {
		return st, nil, fmt.Errorf("simulate: %s: %w", target, err)
	}
	for i := range verbs {
		r.sim.durations(ctx, &verbs[i])
	}
	st.Verbs = verbs
	return st, verbs, nil
}

// status sends the status callback of the ended call.
func (r *simRun) status(ctx context.Context) error {
	form := r.params()
	extra := url.Values{
		"CallStatus": {"completed"}, "CallbackSource": {"call-progress-events"},
		"SequenceNumber": {strconv.Itoa(r.call.StatusSequence)}, "Timestamp": {r.sim.now().UTC().Format(time.RFC1123Z)},
		"CallDuration": {"1"}, "Duration": {"1"}, "SipResponseCode": {"200"},
	}
	for k, v := range extra {
		form[k] = v
	}
	step, err := r.sim.send(ctx, r.call.StatusURL, form, extra)
	r.t.Steps = append(r.t.Steps, step)
	if err != nil {
		return err
	}
	if step.Status/100 != 2 {
		return fmt.Errorf("simulate: status callback %s answered %d: %s", r.call.StatusURL, step.Status, strings.TrimSpace(string(step.Body)))
	}
	return nil
}

// Post sends one signed form POST as Twilio would, for tests and tools
// that script a request by hand (a duplicate status callback, a retried
// webhook).
func (s *Simulator) Post(ctx context.Context, target string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, objections.Invalid("url", target, "is not a URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", randomHex(16))
	req.Header.Set("X-Twilio-Signature", Sign(s.AuthToken, target, form))
	return s.client().Do(req)
}

func (s *Simulator) send(ctx context.Context, target string, form, extra url.Values) (Step, error) {
	step := Step{Method: http.MethodPost, URL: target, Params: extra}
	start := time.Now()
	resp, err := s.Post(ctx, target, form)
	if err != nil {
		return step, fmt.Errorf("simulate: POST %s: %w", target, err)
	}
	defer resp.Body.Close()
	step.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	step.Latency = time.Since(start)
	step.Status, step.ContentType = resp.StatusCode, resp.Header.Get("Content-Type")
	if err != nil {
		return step, fmt.Errorf("simulate: read answer of %s: %w", target, err)
	}
	return step, nil
}

func (s *Simulator) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Simulator) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// durations fills in how long v plays: the audio's length for Play
// (fetched once per URL, as Twilio caches it), an estimate for Say.
func (s *Simulator) durations(ctx context.Context, v *Verb) {
	switch v.Name {
	case "Play":
		v.Duration = s.audioLength(ctx, v.Text)
	case "Say":
		v.Duration = time.Duration(utf8.RuneCountInString(v.Text)) * 65 * time.Millisecond
	case "Pause":
		n, err := strconv.Atoi(v.Attrs["length"])
		if err != nil {
			n = 1
		}
		v.Duration = time.Duration(n) * time.Second
	case "Gather":
		for i := range v.Children {
			s.durations(ctx, &v.Children[i])
			v.Duration += v.Children[i].Duration
		}
	}
}

// audioLength fetches a <Play> URL once and returns its playing time. A
// sound that cannot be fetched or read plays as 0 s, as Twilio skips it;
// the transcript shows it as "?".
func (s *Simulator) audioLength(ctx context.Context, u string) time.Duration {
	if d, ok := s.audio.Load(u); ok {
		return d.(time.Duration)
	}
	var d time.Duration
	if req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil); err == nil {
		if resp, err := s.client().Do(req); err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			resp.Body.Close()
			if w, err := prompts.ParseWAV(b); err == nil && resp.StatusCode == http.StatusOK {
				d = time.Duration(w.DurationMS) * time.Millisecond
			}
		}
	}
	s.audio.Store(u, d)
	return d
}

// xmlNode is any XML element, for reading TwiML.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []xmlNode  `xml:",any"`
}

// ParseTwiML reads a TwiML document into its verbs. EINVALID when it is
// not XML, has something before the first element (Twilio's error 12100),
// or its root is not <Response>.
func ParseTwiML(doc []byte) ([]Verb, error) {
	head := fmt.Sprintf("%.64s", doc) // for the error: the value is quoted there
	if len(doc) > 0 && !bytes.HasPrefix(doc, []byte("<")) {
		return nil, objections.Invalid("TwiML", head, "has something before the first element (Twilio error 12100)")
	}
	var root xmlNode
	if err := xml.Unmarshal(doc, &root); err != nil {
		return nil, objections.Invalid("TwiML", head, "is not XML: %v", err)
	}
	if root.XMLName.Local != "Response" {
		return nil, objections.Invalid("TwiML", root.XMLName.Local, "root element must be <Response>")
	}
	return verbs(root.Nodes), nil
}

func verbs(nodes []xmlNode) []Verb {
	out := make([]Verb, 0, len(nodes))
	for _, n := range nodes {
		v := Verb{Name: n.XMLName.Local, Attrs: map[string]string{}, Text: strings.TrimSpace(n.Text), Children: verbs(n.Nodes)}
		for _, a := range n.Attrs {
			v.Attrs[a.Name.Local] = a.Value
		}
		out = append(out, v)
	}
	return out
}

// resolve makes a TwiML URL absolute against the request that returned it.
func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// String prints the call readably: each request, the TwiML answered as a
// list of verbs, and what the caller and Twilio did.
func (t *Transcript) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "call %s (%s) from %s to %s\n", t.CallSid, t.Direction, orDash(t.From), orDash(t.To))
	for i, s := range t.Steps {
		fmt.Fprintf(&b, "%2d → %s %s", i+1, s.Method, s.URL)
		for _, k := range []string{"Digits", "CallStatus", "SequenceNumber"} {
			if v := s.Params.Get(k); v != "" {
				fmt.Fprintf(&b, " %s=%s", k, v)
			}
		}
		if len(s.Params) == 0 && i > 0 {
			b.WriteString(" (no key)")
		}
		fmt.Fprintf(&b, "\n   ← %d %s, %s\n", s.Status, orDash(s.ContentType), s.Latency.Round(100*time.Microsecond))
		if s.Status/100 != 2 {
			fmt.Fprintf(&b, "     %s\n", strings.TrimSpace(string(s.Body)))
		}
		writeVerbs(&b, s.Verbs, "     ")
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "   · %s\n", n)
		}
	}
	if t.End != "" {
		fmt.Fprintf(&b, "call ended: %s\n", t.End)
	}
	return b.String()
}

func writeVerbs(b *strings.Builder, vs []Verb, indent string) {
	for _, v := range vs {
		switch v.Name {
		case "Gather":
			fmt.Fprintf(b, "%sGather %s, %s key, timeout %s s, finishOnKey %q → %s\n", indent, v.Attrs["input"], v.Attrs["numDigits"],
				v.Attrs["timeout"], v.Attrs["finishOnKey"], shortURL(v.Attrs["action"]))
			writeVerbs(b, v.Children, indent+"  ")
		case "Play":
			fmt.Fprintf(b, "%sPlay %s (%s)\n", indent, shortURL(v.Text), seconds1(v.Duration))
		case "Say":
			fmt.Fprintf(b, "%sSay [%s %s] %q\n", indent, v.Attrs["voice"], v.Attrs["language"], v.Text)
		case "Redirect":
			fmt.Fprintf(b, "%sRedirect → %s\n", indent, shortURL(v.Text))
		default:
			fmt.Fprintf(b, "%s%s\n", indent, v.Name)
		}
	}
}

// shortURL drops scheme and host, and the audio's cache-busting tag.
func shortURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	if strings.HasPrefix(u.Path, promptsPath) {
		return strings.TrimPrefix(u.Path, promptsPath)
	}
	return u.RequestURI()
}

func seconds1(d time.Duration) string {
	if d == 0 {
		return "? s"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
