package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Sign returns the X-Twilio-Signature Twilio sends with a form POST to
// fullURL: HMAC-SHA1, keyed with the auth token, over the URL exactly as
// requested followed by every body parameter's name and value, sorted by
// name (byte-wise), base64-encoded. It is the algorithm twilio-go's
// client.RequestValidator checks (twilio-go exports no signer); the tests
// pin it to Twilio's published vectors and to the validator. A repeated
// parameter contributes each value in sorted order, as Twilio's other
// libraries sign it (twilio-go's validator reads only the first).
func Sign(authToken, fullURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		vs := slices.Clone(form[k])
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
