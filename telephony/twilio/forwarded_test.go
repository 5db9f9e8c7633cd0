package twilio

import (
	"net/http"
	"strings"
	"testing"
)

// Without a public URL (serve --demo), a request a proxy marked https with
// X-Forwarded-Proto is checked against its https URL. (cmd/verzet keeps the
// header only on requests from a trusted proxy.)
func TestBaseURLFollowsForwardedProto(t *testing.T) {
	r := newRig(t, openSQLite(t))
	r.handler.cfg.PublicURL = ""
	voice := r.server.URL + PathVoice + "?org=acme"
	https := "https://" + strings.TrimPrefix(voice, "http://")
	for i, tc := range []struct {
		name, proto, signed string
		status              int
	}{
		{"plain", "", voice, http.StatusOK},
		{"https through a proxy", "https", https, http.StatusOK},
		{"https signature without the header", "", https, http.StatusForbidden},
		{"http signature with the header", "https", voice, http.StatusForbidden},
		{"header says http", "http", voice, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := r.newRequest(voice, tc.signed, testToken, form(sid(i)), "")
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if status, body := r.send(req); status != tc.status {
				t.Fatalf("%d %s; want %d", status, body, tc.status)
			}
		})
	}
}
