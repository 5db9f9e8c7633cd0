package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

func testTokens(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	tok, bearer, err := access.NewToken("dialer-1", access.RoleDialer, nil, "cli", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	stored := must[access.Token](t)(s.CreateToken(ctx, tok))
	if stored.ID != tok.ID || stored.Name != "dialer-1" || stored.Role != access.RoleDialer ||
		stored.Hash != tok.Hash || !stored.CreatedAt.Equal(tok.CreatedAt) || stored.CreatedBy != "cli" || stored.RevokedAt != nil {
		t.Fatalf("stored token = %+v, want %+v", stored, tok)
	}
	id, secret, err := access.ParseToken(bearer)
	if err != nil || id != tok.ID {
		t.Fatalf("parse %q = %q, %v", bearer, id, err)
	}
	got := must[access.Token](t)(s.Token(ctx, id))
	if !got.Matches(secret) || got.Matches(secret[:len(secret)-1]+"x") || !got.Active(clk.Now()) {
		t.Fatalf("read token %+v does not match its secret", got)
	}
	// The secret itself is nowhere in the record.
	if got.Hash == secret || len(got.Hash) != 64 {
		t.Fatalf("hash = %q", got.Hash)
	}

	// One active token per name; a revoked name may be used again.
	dup, _, _ := access.NewToken("dialer-1", access.RoleAdmin, nil, "cli", clk.Now())
	if _, err := s.CreateToken(ctx, dup); objections.ErrorCode(err) != objections.ECONFLICT {
		t.Fatalf("second active token named dialer-1: %v", err)
	}
	other, _, _ := access.NewToken("crm", access.RoleIntegrator, nil, "cli", clk.Now())
	must[access.Token](t)(s.CreateToken(ctx, other))
	at := clk.Now()
	rev := must[access.Token](t)(s.RevokeToken(ctx, tok.ID, at))
	if rev.RevokedAt == nil || !rev.RevokedAt.Equal(at.Truncate(time.Microsecond)) || rev.Active(at) {
		t.Fatalf("revoked = %+v", rev)
	}
	if got := must[access.Token](t)(s.Token(ctx, tok.ID)); got.RevokedAt == nil || got.Active(clk.Now()) {
		t.Fatalf("read after revoke = %+v", got)
	}
	if _, err := s.RevokeToken(ctx, tok.ID, clk.Now()); objections.ErrorCode(err) != objections.ECONFLICT {
		t.Fatalf("revoke twice: %v", err)
	}
	must[access.Token](t)(s.CreateToken(ctx, dup))
	list := must[[]access.Token](t)(s.Tokens(ctx))
	// By id: dup was made (not stored) before other.
	if len(list) != 3 || list[0].ID != tok.ID || list[1].ID != dup.ID || list[2].ID != other.ID || list[0].RevokedAt == nil {
		t.Fatalf("tokens = %+v", list)
	}
}

func testTokenErrors(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	if _, err := s.Token(ctx, "01NOPE"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("unknown token: %v", err)
	}
	if _, err := s.RevokeToken(ctx, "01NOPE", clk.Now()); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("revoke unknown: %v", err)
	}
	good, _, _ := access.NewToken("x", access.RoleDialer, nil, "", clk.Now())
	for name, bad := range map[string]func(t *access.Token){
		"no id":    func(t *access.Token) { t.ID = "" },
		"no name":  func(t *access.Token) { t.Name = "" },
		"bad role": func(t *access.Token) { t.Role = "root" },
		"no hash":  func(t *access.Token) { t.Hash = "" },
		"no time":  func(t *access.Token) { t.CreatedAt = time.Time{} },
	} {
		tok := good
		bad(&tok)
		if _, err := s.CreateToken(ctx, tok); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if list := must[[]access.Token](t)(s.Tokens(ctx)); len(list) != 0 {
		t.Fatalf("an invalid token was stored: %+v", list)
	}
	for _, tc := range []struct {
		name string
		role access.Role
	}{{"", access.RoleDialer}, {"x", "root"}} {
		if _, _, err := access.NewToken(tc.name, tc.role, nil, "", clk.Now()); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("NewToken(%q, %q): %v", tc.name, tc.role, err)
		}
	}
	for _, b := range []string{"", "vzt_", "Bearer x", "vzt_" + good.ID, "vzt_short_secret"} {
		if _, _, err := access.ParseToken(b); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("ParseToken(%q): %v", b, err)
		}
	}
}
