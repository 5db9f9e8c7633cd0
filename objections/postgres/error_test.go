package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/verzet/verzet/objections"
)

func TestTranslate(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("exec: %w", &pgconn.PgError{Severity: "ERROR", Code: code, Message: "boom",
			Detail: "Key (org, number)=(acme, +31612345678) already exists.", ConstraintName: "c"})
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unique", pg("23505"), objections.ECONFLICT},
		{"foreign key", pg("23503"), objections.EINVALID},
		{"check", pg("23514"), objections.EINVALID},
		{"append-only trigger", pg("23000"), objections.EINVALID},
		{"data exception", pg("22001"), objections.EINVALID},
		{"connection failure", pg("08006"), objections.EUNAVAILABLE},
		{"too many connections", pg("53300"), objections.EUNAVAILABLE},
		{"admin shutdown", pg("57P01"), objections.EUNAVAILABLE},
		{"starting up", pg("57P03"), objections.EUNAVAILABLE},
		{"undefined table", pg("42P01"), objections.EINTERNAL},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), objections.EUNAVAILABLE},
		{"net", &net.OpError{Op: "read", Net: "unix", Err: errors.New("connection reset by peer")}, objections.EUNAVAILABLE},
		{"eof", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), objections.EUNAVAILABLE},
		{"conn closed", pgconn.ErrConnClosed, objections.EUNAVAILABLE},
		{"canceled", context.Canceled, objections.EINTERNAL},
		{"domain error kept", objections.NotFound("id", "x"), objections.ENOTFOUND},
		{"other", errors.New("something"), objections.EINTERNAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translate("do it", tc.err)
			if code := objections.ErrorCode(got); code != tc.want {
				t.Fatalf("code = %s (%v); want %s", code, got, tc.want)
			}
			var pe *pgconn.PgError
			if errors.As(got, &pe) {
				t.Fatalf("a *pgconn.PgError escaped: %v", got)
			}
			if strings.Contains(got.Error(), "+31612345678") {
				t.Fatalf("the row's values leaked into the message: %v", got)
			}
		})
	}
}

func TestTranslateKeepsCanceled(t *testing.T) {
	if err := translate("x", fmt.Errorf("q: %w", context.Canceled)); !errors.Is(err, context.Canceled) {
		t.Fatalf("errors.Is(%v, context.Canceled) = false", err)
	}
}
