package review

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"go.uber.org/zap"
)

// A folder below /ui/static/ is not listed either: with or without its
// slash it is 404, and its files are served.
func TestFilesOnlyRefusesSubfolders(t *testing.T) {
	s, err := New(nil, Stores{}, zap.NewNop(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"style.css": {Data: []byte("body{}")}, "img/logo.svg": {Data: []byte("<svg/>")}}
	h := s.filesOnly(fsys, http.StripPrefix("/ui/static/", http.FileServerFS(fsys)))
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/ui/static/", http.StatusNotFound},
		{"/ui/static/img", http.StatusNotFound},
		{"/ui/static/img/", http.StatusNotFound},
		{"/ui/static/img/logo.svg", http.StatusOK},
		{"/ui/static/style.css", http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.status || strings.Contains(rec.Body.String(), `href="logo.svg"`) {
			t.Errorf("GET %s = %d %.200q; want %d", tc.path, rec.Code, rec.Body.String(), tc.status)
		}
	}
}
