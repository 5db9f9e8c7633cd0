package httpapi

import (
	"net/http"

	"go.uber.org/zap"
)

// zapRoute names the route of r for logs: the pattern, never the path
// (which may hold a phone number).
func zapRoute(r *http.Request) zap.Field { return zap.String("route", r.Pattern) }

func zapErr(err error) zap.Field { return zap.Error(err) }
