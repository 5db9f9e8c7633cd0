package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a token bucket per API token: rate requests per second on
// average, burst at once. It counts on this instance only; with n
// instances behind a balancer a token gets up to n times the rate.
type limiter struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newLimiter returns a limiter, or nil (no limit) when rate <= 0.
func newLimiter(rate float64, burst int) *limiter {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if b < 1 {
		b = math.Max(1, rate)
	}
	return &limiter{rate: rate, burst: b, buckets: map[string]*bucket{}}
}

// allow takes one request from key's bucket at now. When the bucket is
// empty it returns the error to answer: 429 with Retry-After in whole
// seconds until the next request is allowed.
func (l *limiter) allow(key string, now time.Time) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return nil
	}
	wait := int(math.Ceil((1 - b.tokens) / l.rate))
	if wait < 1 {
		wait = 1
	}
	return &apiError{status: http.StatusTooManyRequests, code: codeRateLimited, retryAfter: wait,
		detail: "this token exceeded its rate of " + strconv.FormatFloat(l.rate, 'f', -1, 64) +
			" requests per second; retry after " + strconv.Itoa(wait) + " s"}
}

// sweep forgets buckets that have been full for a while.
func (l *limiter) sweep(now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst && now.Sub(b.last) > time.Minute {
			delete(l.buckets, k)
		}
	}
}
