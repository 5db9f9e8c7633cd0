package twilio

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

// The prompt audio is served without a signature or credentials (Twilio
// fetches <Play> URLs as they are), and nothing but catalogue sounds.
func TestPromptAudio(t *testing.T) {
	r := newRig(t, openSQLite(t))
	offer, err := testCatalog(t).Sound("verzet/nl/offer-1")
	if err != nil {
		t.Fatal(err)
	}
	get := func(method, path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, r.server.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := r.server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := get(http.MethodGet, "/prompts/nl/offer-1.wav?v=anything")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || !bytes.Equal(body, offer.Audio) {
		t.Fatalf("GET offer-1: %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := get(http.MethodGet, "/prompts/nl/offer-1.wav", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional GET: %d", resp.StatusCode)
	}
	if resp, body := get(http.MethodHead, "/prompts/nl/digit/1.wav"); resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("HEAD digit: %d", resp.StatusCode)
	}
	if resp, body := get(http.MethodGet, "/prompts/en/offer-1.wav", "Range", "bytes=0-11"); resp.StatusCode != http.StatusPartialContent || string(body[:4]) != "RIFF" {
		t.Fatalf("range: %d %q", resp.StatusCode, body)
	}
	for _, p := range []string{"/prompts/nl/nope.wav", "/prompts/nl/offer-1.txt", "/prompts/nl/offer.txt.wav", "/prompts/../go.mod",
		"/prompts/nl/..%2f..%2fgo.mod.wav", "/prompts/", "/prompts//etc/passwd.wav", "/prompts/xx/offer-1.wav"} {
		// The mux may redirect an unclean path to its clean form first; it
		// never serves anything else.
		if resp, _ := get(http.MethodGet, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := get(http.MethodPost, "/prompts/nl/offer-1.wav"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", resp.StatusCode)
	}
	// Every <Play> URL of a dialogue resolves (the simulator fetched each).
	tr := r.run(r.call("7", "1"))
	for _, s := range tr.Steps {
		for _, v := range s.Verbs {
			for _, p := range append([]twiliotest.Verb{v}, v.Children...) {
				if p.Name == "Play" && p.Duration == 0 {
					t.Errorf("%s did not play", p.Text)
				}
			}
		}
	}
}
