package review

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/verzet/verzet/objections/access"
)

// Sign-in throttling. Guessing is limited per user name, in the store
// (objections.LockUntil): a limit per name and client address would let
// anyone with many addresses guess on without bound, and one kept in memory
// would not hold across instances. A per-name lock alone would let anyone
// keep a name (admin) locked for good, so a browser that signed in as that
// user before, with the password the user has now, carries a device cookie
// and may still try while the name is locked (as OWASP's "device cookies"
// describe). The lock is never shown: a locked, an unknown and a known
// name answer alike, equally slowly (see signIn).

// deviceCookie marks a browser that signed in as a user before.
const deviceCookie = "verzet_device"

// deviceCookieAge is how long a browser stays known without signing in.
const deviceCookieAge = 180 * 24 * time.Hour

// deviceToken is the device cookie's value for u: a MAC of the user keyed
// with the password hash, which only the store knows. It needs no storage,
// and a new password voids every device cookie of the old one.
func deviceToken(u access.User) string {
	m := hmac.New(sha256.New, []byte(u.PasswordHash))
	m.Write([]byte("verzet-device\x00" + u.ID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setDeviceCookie marks the browser as one that signed in as u.
func (s *Server) setDeviceCookie(w http.ResponseWriter, r *http.Request, u access.User) {
	s.setCookie(w, r, deviceCookie, deviceToken(u), deviceCookieAge)
}

// knownDevice reports whether r comes from a browser that signed in as u
// with u's current password.
func knownDevice(r *http.Request, u access.User) bool {
	c, err := r.Cookie(deviceCookie)
	return err == nil && validToken(c.Value, deviceToken(u))
}

// deviceThrottle bounds guessing through a device cookie while the name
// is locked (the cookie may be copied off a shared computer): after
// access.FreeSignInFailures failures a user's device cookies no longer
// pass the lock on this instance until that user signs in. It holds one
// count per user at most.
type deviceThrottle struct {
	mu    sync.Mutex
	fails map[string]int
}

func (d *deviceThrottle) allowed(userID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fails[userID] < access.FreeSignInFailures
}

func (d *deviceThrottle) failed(userID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fails == nil {
		d.fails = map[string]int{}
	}
	d.fails[userID]++
}

func (d *deviceThrottle) reset(userID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.fails, userID)
}

// checkPassword tries password for u, read from the store before the
// attempt, at time now. ok is whether the password is right and was
// compared; locked whether the lock refused the attempt.
//
// A name that was locked when read is refused without counting: trying
// during a lock does not extend it. Otherwise the attempt is counted as a
// failure in the store first (SignInFailed, one at a time per user), and
// the password is compared only when that count shows the name was not
// locked just before: so parallel attempts cannot all get past the lock
// by reading the user before any of them has failed. A good password
// clears the count again (SignedIn, by the caller). A refused attempt is
// compared against a dummy hash, so that it takes as long as any other.
func (s *Server) checkPassword(ctx context.Context, r *http.Request, u access.User, password string, now time.Time) (ok, locked bool, err error) {
	device := knownDevice(r, u) && s.devices.allowed(u.ID)
	open, bypass := false, false
	if !u.Locked(now) || device {
		counted, err := s.access.SignInFailed(ctx, u.ID, now)
		if err != nil {
			return false, false, err
		}
		// Not locked before this attempt: no more than the free failures
		// counted with it, or nobody failed since u was read unlocked.
		open = counted.FailedSignIns <= access.FreeSignInFailures ||
			(counted.FailedSignIns == u.FailedSignIns+1 && !u.Locked(now))
		bypass = !open && device
	}
	hash := []byte(u.PasswordHash)
	if !open && !bypass {
		hash = s.dummyHash()
	}
	ok = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && (open || bypass)
	switch {
	case ok:
		s.devices.reset(u.ID)
	case bypass:
		s.devices.failed(u.ID)
	}
	return ok, !open && !bypass, nil
}
