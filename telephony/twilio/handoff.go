package twilio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	twilioapi "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/verzet/verzet/objections"
)

// CallUpdater is the part of Twilio's REST API that Handoff uses.
// (*twilioapi.RestClient).Api satisfies it.
type CallUpdater interface {
	UpdateCall(sid string, params *openapi.UpdateCallParams) (*openapi.ApiV2010Call, error)
}

// RESTConfig holds the credentials for Twilio's REST API: the account SID
// with its auth token, or with an API key SID and secret.
type RESTConfig struct {
	AccountSID string
	AuthToken  string
	APIKey     string
	APISecret  string
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// HTTPClient replaces the client's transport (tests); its Timeout is
	// replaced by Timeout.
	HTTPClient *http.Client
}

// NewRESTClient returns a twilio-go REST client. EINVALID names the
// missing or malformed credential.
func NewRESTClient(c RESTConfig) (*twilioapi.RestClient, error) {
	if !accountSidPattern.MatchString(c.AccountSID) {
		return nil, objections.Invalid("VERZET_TWILIO_ACCOUNT_SID", c.AccountSID, "must be the account SID: AC followed by 32 hex digits")
	}
	user, pass := c.AccountSID, c.AuthToken
	if c.APIKey != "" || c.APISecret != "" {
		if c.APIKey == "" || c.APISecret == "" {
			return nil, objections.Invalid("VERZET_TWILIO_API_KEY", c.APIKey, "and VERZET_TWILIO_API_SECRET must be given together")
		}
		user, pass = c.APIKey, c.APISecret
	}
	if pass == "" {
		return nil, objections.Invalid("VERZET_TWILIO_AUTH_TOKEN", "", "or an API key pair (VERZET_TWILIO_API_KEY, VERZET_TWILIO_API_SECRET) is required for the REST API")
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	hc := &http.Client{}
	if c.HTTPClient != nil {
		copied := *c.HTTPClient
		hc = &copied
	}
	// The timeout is the transport's, not the client's: see wholeBody.
	hc.Timeout = 0
	hc.Transport = wholeBody{next: hc.Transport, timeout: c.Timeout}
	base := &client.Client{Credentials: client.NewCredentials(user, pass), HTTPClient: hc}
	base.SetAccountSid(c.AccountSID)
	return twilioapi.NewRestClientWithParams(twilioapi.ClientParams{Client: base}), nil
}

// Handoff moves a live call into the dialogue: it tells Twilio (REST
// UpdateCall with Url and Method POST) to fetch voiceURL for the call, as
// when an agent desktop ends the agent leg. callSid must be the customer's
// leg: for a dialer's call the parent, not the agent's <Dial> child.
//
// twilio-go v1.31.0 takes no context, so ctx is checked before the
// request and a request in flight is bounded by the client's timeout.
// Errors: EINVALID for a malformed SID or URL, or credentials Twilio
// refuses; ENOTFOUND for a call Twilio does not know; ECONFLICT for a call
// that is not in progress (ended, or still ringing); EUNAVAILABLE when
// Twilio cannot be reached or fails.
func Handoff(ctx context.Context, api CallUpdater, callSid, voiceURL string) error {
	if !callSidPattern.MatchString(callSid) {
		return objections.Invalid("CALLSID", callSid, "must be a call SID: CA followed by 32 hex digits")
	}
	if u, err := url.Parse(voiceURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return objections.Invalid("voice URL", voiceURL, "must be an absolute http(s) URL")
	}
	if err := ctx.Err(); err != nil {
		return objections.Unavailable("hand off call", err)
	}
	params := &openapi.UpdateCallParams{}
	params.SetUrl(voiceURL).SetMethod(http.MethodPost)
	_, err := api.UpdateCall(callSid, params)
	if err == nil {
		return nil
	}
	var te *client.TwilioRestError
	if !errors.As(err, &te) {
		return twilioUnavailable(err)
	}
	msg := fmt.Sprintf("Twilio answered %d, code %d: %s", te.Status, te.Code, te.Message)
	switch {
	case te.Status == http.StatusNotFound || te.Code == 20404:
		return &objections.Error{Code: objections.ENOTFOUND, Field: "CALLSID", Value: callSid, Message: "Twilio knows no such call (" + msg + ")"}
	case te.Code == 21220:
		return &objections.Error{Code: objections.ECONFLICT, Field: "CALLSID", Value: callSid, Message: "the call is not in progress (" + msg + ")"}
	case te.Status == http.StatusUnauthorized || te.Status == http.StatusForbidden:
		return objections.Errorf(objections.EINVALID, "Twilio refused the credentials (%s)", msg)
	case te.Status >= 500:
		return twilioUnavailable(errors.New(msg))
	}
	return objections.Errorf(objections.EINVALID, "hand off call %s: %s", callSid, msg)
}

// twilioUnavailable is EUNAVAILABLE naming Twilio, so that the command
// says "Twilio unavailable", not "store unavailable".
func twilioUnavailable(err error) error {
	e := objections.Unavailable("hand off call: reach Twilio", err)
	e.Field = "Twilio"
	return e
}

// wholeBody bounds each request by timeout and reads its response whole
// before twilio-go sees it: twilio-go v1.31.0 decodes an error answer
// (4xx, 5xx) but never closes its body, which with http.Client.Timeout
// keeps the connection and net/http's timer goroutine alive until the
// timeout. REST answers are small.
type wholeBody struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t wholeBody) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	ctx, cancel := context.WithTimeout(r.Context(), t.timeout)
	defer cancel()
	res, err := next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}
