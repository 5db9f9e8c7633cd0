package main

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/verzet/verzet/objections"
)

// trustedProxies are the reverse proxies in front of verzet
// (VERZET_TRUSTED_PROXIES): only a request whose direct peer is one of
// them may say, with X-Forwarded-For, -Proto and -Host, whom it came from
// and how it was addressed.
type trustedProxies []netip.Prefix

// parseTrustedProxies reads "10.0.0.0/8, 192.0.2.7, ::1": IPs and CIDR
// ranges, comma-separated. An error names the entry that is neither.
func parseTrustedProxies(v string) (trustedProxies, error) {
	var out trustedProxies
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, objections.Invalid("VERZET_TRUSTED_PROXIES", s, "is not an IP address (192.0.2.7) or a CIDR range (10.0.0.0/8)")
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return nil, objections.Invalid("VERZET_TRUSTED_PROXIES", s, "mixes IPv4-mapped and plain IPv6 addresses: write the IPv4 range (10.0.0.0/8)")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// trusts reports whether a is one of the proxies.
func (t trustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardingHeaders are the headers by which a proxy describes the
// request it forwards. A handler behind front sees none of them but a
// normalised X-Forwarded-Proto from a trusted proxy.
var forwardingHeaders = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "Forwarded", "X-Real-Ip"}

// client is who sent a request and how it was addressed, as verzet
// believes it.
type client struct {
	addr  string // host:port of the client (port 0 when a proxy named none)
	proto string // "http" or "https" when a trusted proxy said; "" otherwise
	host  string // the Host the client asked for, as a trusted proxy said; "" otherwise
}

// client resolves r's client: the direct peer, or, when the peer is a
// trusted proxy, the client it names in X-Forwarded-For (the nearest
// address not itself a trusted proxy, read from the right; an unreadable
// entry ends the walk) and the scheme and host it names in
// X-Forwarded-Proto and -Host (the last value of each; one that is not
// http/https or not a host name is ignored). ok is false when the peer is
// not trusted: then nothing the request says about itself is believed.
func (t trustedProxies) client(r *http.Request) (c client, ok bool) {
	c.addr = r.RemoteAddr
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !t.trusts(peer.Addr()) {
		return c, false
	}
	hop := peer
	hops := headerList(r.Header, "X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		hop = a
		if !t.trusts(a.Addr()) {
			break
		}
	}
	c.addr = hop.String()
	if p := lastValue(r.Header, "X-Forwarded-Proto"); strings.EqualFold(p, "http") || strings.EqualFold(p, "https") {
		c.proto = strings.ToLower(p)
	}
	if h := lastValue(r.Header, "X-Forwarded-Host"); validHost(h) {
		c.host = h
	}
	return c, true
}

// front is the first handler of the public listener: it removes the
// forwarding headers of every request and, for one from a trusted proxy,
// applies what they said first: RemoteAddr becomes the client's address,
// Host the host it asked for, and X-Forwarded-Proto, when the proxy sent
// a valid one, stays as "http" or "https". Behind front, r.RemoteAddr,
// r.Host and r.TLS or X-Forwarded-Proto are the whole truth about the
// client (objections/review, objections/httpapi and telephony/twilio
// read nothing else).
func (t trustedProxies) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hasAny(r.Header, forwardingHeaders) {
			next.ServeHTTP(w, r)
			return
		}
		c, trusted := t.client(r)
		r = r.Clone(r.Context())
		for _, h := range forwardingHeaders {
			r.Header.Del(h)
		}
		if trusted {
			r.RemoteAddr = c.addr
			if c.host != "" {
				r.Host = c.host
			}
			if c.proto != "" {
				r.Header.Set("X-Forwarded-Proto", c.proto)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func hasAny(h http.Header, names []string) bool {
	for _, n := range names {
		if _, ok := h[n]; ok {
			return true
		}
	}
	return false
}

// headerList returns the comma-separated values of every line of the
// header, in order.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, line := range h.Values(name) {
		for _, v := range strings.Split(line, ",") {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// lastValue is the last of the header's comma-separated values: the one
// the nearest proxy wrote.
func lastValue(h http.Header, name string) string {
	vs := headerList(h, name)
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// parseHop reads one X-Forwarded-For entry: 192.0.2.1, 2001:db8::1,
// 192.0.2.1:4711 or [2001:db8::1]:4711; port 0 when it names none.
func parseHop(s string) (netip.AddrPort, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), 0), true
}

// validHost accepts a host or host:port as a client writes it in Host,
// and nothing with a path, credentials or spaces.
func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, " \t/\\@?#%") {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.Hostname() != ""
}
