package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// maxCachedTokens bounds the token cache; past it tokens are checked
// against the store every time (an attacker cycling ids cannot grow it:
// only tokens that exist are cached).
const maxCachedTokens = 10000

// authenticator checks bearer tokens. It keeps a token record read from
// the store for ttl, so that a dialer's thousands of checks per second do
// not each read the token too; the secret is compared with the record's
// hash on every request. A token revoked on another instance stops working
// there within ttl; one revoked through this instance's API stops at once.
type authenticator struct {
	tokens access.TokenStore
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedToken // by token id
}

type cachedToken struct {
	tok     access.Token
	expires time.Time
}

func newAuthenticator(tokens access.TokenStore, ttl time.Duration, now func() time.Time) *authenticator {
	return &authenticator{tokens: tokens, ttl: ttl, now: now, cache: map[string]cachedToken{}}
}

func errNoToken() error {
	return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized,
		detail: "send an API token: Authorization: Bearer vzt_… (verzet tokens create)"}
}

func errBadToken() error {
	return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized,
		detail: "the API token is not valid, or was revoked"}
}

// authenticate returns the active token r carries, or a 401 error.
func (a *authenticator) authenticate(ctx context.Context, r *http.Request) (access.Token, error) {
	h := r.Header.Get("Authorization")
	scheme, bearer, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
		return access.Token{}, errNoToken()
	}
	id, secret, err := access.ParseToken(strings.TrimSpace(bearer))
	if err != nil {
		return access.Token{}, errBadToken()
	}
	now := a.now()
	tok, err := a.lookup(ctx, id, now)
	if err != nil {
		return access.Token{}, err
	}
	if !tok.Matches(secret) || !tok.Active(now) {
		return access.Token{}, errBadToken()
	}
	return tok, nil
}

func (a *authenticator) lookup(ctx context.Context, id string, now time.Time) (access.Token, error) {
	if a.ttl > 0 {
		a.mu.Lock()
		c, ok := a.cache[id]
		a.mu.Unlock()
		if ok && now.Before(c.expires) {
			return c.tok, nil
		}
	}
	tok, err := a.tokens.Token(ctx, id)
	if objections.ErrorCode(err) == objections.ENOTFOUND {
		return access.Token{}, errBadToken()
	}
	if err != nil {
		return access.Token{}, err
	}
	if a.ttl > 0 {
		a.mu.Lock()
		if len(a.cache) < maxCachedTokens {
			a.cache[id] = cachedToken{tok: tok, expires: now.Add(a.ttl)}
		}
		a.mu.Unlock()
	}
	return tok, nil
}

// forget drops a token from the cache (it was revoked here).
func (a *authenticator) forget(id string) {
	a.mu.Lock()
	delete(a.cache, id)
	a.mu.Unlock()
}

// sweep drops expired entries.
func (a *authenticator) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, c := range a.cache {
		if !now.Before(c.expires) {
			delete(a.cache, id)
		}
	}
}
