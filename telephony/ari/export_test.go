package ari

// SetRouteHook makes the router call hook before each event (tests slow it
// down to overflow ari/v5's subscription buffer).
func SetRouteHook(a *Adapter, hook func()) { a.routeHook = hook }
