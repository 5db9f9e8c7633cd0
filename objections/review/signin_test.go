package review_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/review"
)

// An unknown name, a wrong password and a locked name (even with the
// right password) get the same answer: the lock does not tell which
// names exist.
func TestSignInAnswersAlike(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		attacker := e.browser()
		for range access.FreeSignInFailures {
			wantStatus(t, attacker.signIn("sam", "wrong password"), http.StatusUnauthorized)
		}
		answers := map[string]resp{
			"unknown name":   e.browser().signIn("nobody", password),
			"wrong password": e.browser().signIn("ada", "wrong password"),
			"locked name":    e.browser().signIn("sam", password),
		}
		for what, r := range answers {
			wantStatus(t, r, http.StatusUnauthorized)
			if msg := errorText(r.body); msg != errorText(answers["unknown name"].body) || msg == "" {
				t.Errorf("%s: %q, want %q", what, msg, errorText(answers["unknown name"].body))
			}
		}
	})
}

// errorText is the error message of a sign-in page.
func errorText(body string) string {
	_, after, _ := strings.Cut(body, `class="error"`)
	msg, _, _ := strings.Cut(after, "</")
	return msg
}

// A locked name takes as long to refuse as an unknown one: both compare
// a password hash.
func TestSignInLockedIsAsSlow(t *testing.T) {
	st := backends()[0].open(t)
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	reg := objections.NewRegister(st, objections.Numbers{Region: "NL"}, clk.Now)
	const cost = 10 // slow enough to tell a hash from none
	srv, err := review.New(reg, review.Stores{Access: st, Records: st, Decisions: st}, zaptest.NewLogger(t), review.Config{BcryptCost: cost, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, reg: reg, clk: clk, h: srv.Handler()}
	e.user("sam", access.RoleSupervisor)
	for range access.FreeSignInFailures {
		wantStatus(t, e.browser().signIn("sam", "wrong password"), http.StatusUnauthorized)
	}
	fastest := func(name string) time.Duration {
		best := time.Hour
		for range 3 {
			b := e.browser()
			form := url.Values{"name": {name}, "password": {password}, "csrf": {b.token("/ui/signin")}}
			start := time.Now()
			wantStatus(t, b.post("/ui/signin", form), http.StatusUnauthorized)
			best = min(best, time.Since(start))
		}
		return best
	}
	unknown, locked := fastest("nobody"), fastest("sam")
	if locked < unknown/2 {
		t.Fatalf("a locked name is refused in %v, an unknown one in %v", locked, unknown)
	}
}

// barrierStore holds every UserByName until n have been made, so that
// parallel sign-ins all read the user before any of them fails.
type barrierStore struct {
	testStore
	armed   atomic.Bool
	arrived sync.WaitGroup
}

func (s *barrierStore) UserByName(ctx context.Context, name string) (access.User, error) {
	u, err := s.testStore.UserByName(ctx, name)
	if s.armed.Load() {
		s.arrived.Done()
		s.arrived.Wait()
	}
	return u, err
}

// Parallel wrong passwords are counted before any is compared: of twelve
// at once, only the free failures are tried against the password hash.
func TestSignInParallelFailuresCounted(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			const n = 12
			st := &barrierStore{testStore: b.open(t)}
			e := newEnv(t, st)
			browsers := make([]*browser, n)
			forms := make([]url.Values, n)
			for i := range browsers {
				browsers[i] = e.browser()
				forms[i] = url.Values{"name": {"sam"}, "password": {"wrong password"}, "csrf": {browsers[i].token("/ui/signin")}}
			}
			st.arrived.Add(n)
			st.armed.Store(true)
			var wg sync.WaitGroup
			status := make([]int, n)
			for i := range browsers {
				wg.Go(func() { status[i] = browsers[i].post("/ui/signin", forms[i]).status })
			}
			wg.Wait()
			st.armed.Store(false)
			tried, refused := 0, 0
			for _, a := range auditActions(t, e) {
				switch a {
				case "sam:sign_in_failed":
					tried++
				case "sam:sign_in_locked":
					refused++
				}
			}
			if tried != access.FreeSignInFailures || refused != n-access.FreeSignInFailures {
				t.Fatalf("%d passwords tried and %d refused (statuses %v), want %d and %d",
					tried, refused, status, access.FreeSignInFailures, n-access.FreeSignInFailures)
			}
			for i, s := range status {
				if s != http.StatusUnauthorized {
					t.Errorf("attempt %d: %d", i, s)
				}
			}
		})
	}
}

// Anyone can lock a name by failing with it; a browser that signed in as
// that user before still can sign in, a few tries at most.
func TestSignInKnownDeviceWhileLocked(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		own := e.signedIn("sam")
		wantRedirect(t, own.submit("/ui/objections", "/ui/signout", url.Values{}), "/ui/signin")
		other := e.signedIn("ada") // ada's device cookie does not open sam's lock
		wantRedirect(t, other.submit("/ui/objections", "/ui/signout", url.Values{}), "/ui/signin")
		attacker := e.browser()
		for range access.FreeSignInFailures + 1 {
			wantStatus(t, attacker.signIn("sam", "wrong password"), http.StatusUnauthorized)
		}
		wantStatus(t, attacker.signIn("sam", password), http.StatusUnauthorized)
		wantStatus(t, e.browser().signIn("sam", password), http.StatusUnauthorized)
		wantStatus(t, other.signIn("sam", password), http.StatusUnauthorized)
		wantRedirect(t, own.signIn("sam", password), "/ui/objections")
		wantRedirect(t, own.submit("/ui/objections", "/ui/signout", url.Values{}), "/ui/signin")

		// Through a device cookie too, guessing stops after a few tries.
		for range access.FreeSignInFailures + 1 {
			wantStatus(t, attacker.signIn("sam", "wrong password"), http.StatusUnauthorized)
		}
		for range access.FreeSignInFailures {
			wantStatus(t, own.signIn("sam", "wrong password"), http.StatusUnauthorized)
		}
		wantStatus(t, own.signIn("sam", password), http.StatusUnauthorized)
		// When the lock ends, the right password works again.
		e.clk.Add(access.MaxLock + time.Second)
		wantRedirect(t, own.signIn("sam", password), "/ui/objections")
	})
}

// The static folder is served file by file and never listed.
func TestStaticListsNoFolder(t *testing.T) {
	e := newEnv(t, backends()[0].open(t))
	b := e.browser()
	for _, p := range []string{"/ui/static/", "/ui/static", "/ui/static/.", "/ui/static//", "/ui/static/./"} {
		r := b.get(p)
		if loc := r.header.Get("Location"); r.status == http.StatusTemporaryRedirect || r.status == http.StatusMovedPermanently {
			r = b.get(loc) // the mux cleans the path first
		}
		if r.status != http.StatusNotFound || strings.Contains(r.body, `<a href="style.css">`) {
			t.Errorf("GET %s: %d\n%.300s", p, r.status, r.body)
		}
	}
	wantStatus(t, b.get("/ui/static/style.css"), http.StatusOK)
}
