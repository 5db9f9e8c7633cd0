package review

import (
	"io/fs"
	"net/http"
	"strings"
)

// filesOnly serves the files of fsys, mounted at /ui/static/, through h
// and answers 404 for every folder: http.FileServer would list it.
func (s *Server) filesOnly(fsys fs.FS, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/ui/static/")
		if name == "" || strings.HasSuffix(name, "/") {
			s.errorPage(w, r, http.StatusNotFound, "error.notFound")
			return
		}
		if fi, err := fs.Stat(fsys, name); err == nil && fi.IsDir() {
			s.errorPage(w, r, http.StatusNotFound, "error.notFound")
			return
		}
		h.ServeHTTP(w, r)
	})
}
