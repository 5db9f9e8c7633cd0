package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"

	"github.com/verzet/verzet/objections/access"
)

// openAPIDocument is the API's OpenAPI 3 description, kept in the repo
// beside the handlers; TestOpenAPIMatchesRoutes keeps the two in step.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI answers GET /v1/openapi.json. It needs no token: the document
// holds no data, and clients generate their code from it.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request, _ access.Token) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	_, _ = w.Write(openAPIDocument)
}
