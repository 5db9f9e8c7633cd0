package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// APIStore is what objections/httpapi needs of a store besides
// objections.Store: tokens, the webhook outbox and batched facts.
type APIStore interface {
	objections.Store

	CreateToken(ctx context.Context, t access.Token) (access.Token, error)
	Token(ctx context.Context, id string) (access.Token, error)
	Tokens(ctx context.Context) ([]access.Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) (access.Token, error)

	SetWebhookTargets(ctx context.Context, urls []string, now time.Time) error
	ClaimDeliveries(ctx context.Context, targets []string, now time.Time, lease time.Duration, limit int) ([]objections.Delivery, error)
	AckDelivery(ctx context.Context, id int64, now time.Time) error
	RetryDelivery(ctx context.Context, d objections.Delivery, next time.Time, lastError string) error
	OutboxStats(ctx context.Context, targets []string) (objections.OutboxStats, error)
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)

	FactsBatch(ctx context.Context, org string, numbers []string) ([]objections.Facts, error)
}

// OpenAPI returns a fresh, migrated, empty APIStore for one test.
type OpenAPI func(t *testing.T) APIStore

// RunAPI runs the suite of the API's storage (tokens, outbox, batched
// facts) against the store open returns.
func RunAPI(t *testing.T, open OpenAPI) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open OpenAPI)
	}{
		{"Tokens", testTokens},
		{"TokenErrors", testTokenErrors},
		{"OutboxWrittenWithTheRecord", testOutboxWritten},
		{"OutboxOrderPerKey", testOutboxOrder},
		{"OutboxLeaseAndRetry", testOutboxLease},
		{"OutboxTargets", testOutboxTargets},
		{"OutboxStatsAndPrune", testOutboxStatsPrune},
		{"FactsBatchMatchesFacts", testFactsBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// apiRegister returns a register over a fresh APIStore with a clock that
// moves a millisecond per reading.
func apiRegister(t *testing.T, open OpenAPI) (*objections.Register, APIStore, *fixedClock) {
	t.Helper()
	s := open(t)
	clk := &fixedClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	return objections.NewRegister(s, objections.Numbers{Region: "NL"}, clk.Now), s, clk
}
