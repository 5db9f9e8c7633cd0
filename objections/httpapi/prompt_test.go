package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/verzet/verzet/objections"
)

// fakeRecordings keeps the uploads it is given and lists one entry per
// request, saying whose prompts were asked for. The real one (the prompt
// library, in cmd/verzet) is tested end to end there.
type fakeRecordings struct {
	mu      sync.Mutex
	uploads []PromptRecording
}

func (f *fakeRecordings) RecordPrompt(_ context.Context, r PromptRecording) (RecordedPrompt, error) {
	if !strings.HasPrefix(string(r.Audio), "RIFF") {
		return RecordedPrompt{}, objections.Invalid("audio", "", "unsupported recording: neither a WAV nor an MP3 file")
	}
	f.mu.Lock()
	f.uploads = append(f.uploads, r)
	f.mu.Unlock()
	return RecordedPrompt{PromptEntry: PromptEntry{Prompt: r.Prompt, Language: r.Language, Source: "recorded", Revision: 1}, Org: r.Org}, nil
}

func (f *fakeRecordings) PromptEntries(_ context.Context, org string) ([]PromptEntry, error) {
	return []PromptEntry{{Prompt: "offer", Language: "nl", Source: "catalogue", Text: "for " + org}}, nil
}

func TestPromptsRoutes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		fake := &fakeRecordings{}
		e := newEnv(t, b, Config{}, WithPrompts(fake))

		// The upload reaches the library with the path's prompt and
		// language, the org and the words, and who sent it.
		a := e.do(req{method: "PUT", path: "/v1/prompts/offer/NL?org=acme&text=Hallo+%7Borg%7D", role: "admin", body: "RIFF....", contentType: "audio/wav"}).
			want(t, http.StatusOK)
		var rec RecordedPrompt
		a.json(t, &rec)
		if rec.Org != "acme" || rec.Prompt != "offer" || rec.Language != "nl" {
			t.Errorf("recorded %+v", rec)
		}
		if got := fake.uploads[len(fake.uploads)-1]; got.Text != "Hallo {org}" || string(got.Audio) != "RIFF...." || !strings.HasPrefix(got.By, "api:") {
			t.Errorf("the library got %+v", got)
		}

		// Refusals name the field and leave nothing stored.
		n := len(fake.uploads)
		for _, c := range []struct {
			path, body string
			status     int
			field      string
		}{
			{"/v1/prompts/offer/nl?org=acme", "", http.StatusBadRequest, "audio"},
			{"/v1/prompts/offer/nl?org=acme", "hello", http.StatusBadRequest, "audio"},
			{"/v1/prompts/offer/nl?org=nosuch", "RIFF", http.StatusNotFound, "org"},
		} {
			a := e.do(req{method: "PUT", path: c.path, role: "admin", body: c.body, contentType: "audio/wav"})
			if a.status != c.status || !strings.Contains(string(a.body), `"field":"`+c.field+`"`) {
				t.Errorf("PUT %s %q: %d %s, want %d naming %s", c.path, c.body, a.status, a.body, c.status, c.field)
			}
		}
		if len(fake.uploads) != n {
			t.Errorf("refused uploads were stored: %+v", fake.uploads[n:])
		}
		// Only admins record; supervisors list.
		e.do(req{method: "PUT", path: "/v1/prompts/offer/nl?org=acme", role: "supervisor", body: "RIFF", contentType: "audio/wav"}).want(t, http.StatusForbidden)
		e.do(req{method: "GET", path: "/v1/prompts?org=acme", role: "supervisor"}).want(t, http.StatusOK)
	})
}

func TestPromptsWithoutIVR(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		a := e.do(req{method: "GET", path: "/v1/prompts", role: "admin"}).want(t, http.StatusNotFound)
		if !strings.Contains(string(a.body), "without the IVR") {
			t.Errorf("404 does not say why: %s", a.body)
		}
	})
}
