package ari

// SetRouteHook makes the router call hook before each event (tests slow it
// down to overflow ari/v5's subscription buffer).
func SetRouteHook(a *Adapter, hook func()) { a.routeHook = hook }

// Draining reports whether every node of a has stopped taking new calls.
func Draining(a *Adapter) bool {
	for _, n := range a.nodes {
		n.mu.RLock()
		d := n.draining
		n.mu.RUnlock()
		if !d {
			return false
		}
	}
	return true
}

// Playing reports whether the adapter has a playback running on channel
// id: Asterisk answered its POST.
func Playing(a *Adapter, id string) bool {
	for _, n := range a.nodes {
		if c := n.call(id); c != nil && c.playing.Load() != nil {
			return true
		}
	}
	return false
}

// MediaChecked reports whether every node of a has reported a prompt audio
// check.
func MediaChecked(a *Adapter) bool {
	for _, n := range a.nodes {
		if n.media.Load() == nil {
			return false
		}
	}
	return true
}
