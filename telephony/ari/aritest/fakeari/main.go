// Command fakeari serves the fake Asterisk of package aritest on a port and
// places scripted calls into a Stasis app, to try `verzet serve` end to end
// without an Asterisk:
//
//	go run ./telephony/ari/aritest/fakeari -addr 127.0.0.1:8088 -press 1 &
//	VERZET_ARI_URL=http://127.0.0.1:8088/ari VERZET_ARI_USER=verzet VERZET_ARI_PASSWORD=verzet \
//	    go run ./cmd/verzet serve
//	go run ./cmd/verzet check 0612345678 --org acme    # NOT CALLABLE … objection
//
// Once the app registers, each call enters Stasis with VERZET_ORG,
// VERZET_NUMBER and VERZET_CAMPAIGN set, hears the offer, presses -press
// after -after (or nothing), and the outcome is printed. Prompts play for
// their length as given by -sound (every media URI alike). It keeps serving
// after the script until interrupted, unless -exit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/verzet/verzet/telephony/ari/aritest"
)

func main() {
	var (
		addr   = flag.String("addr", "127.0.0.1:8088", "listen address")
		user   = flag.String("user", "verzet", "ARI user")
		pass   = flag.String("password", "verzet", "ARI password")
		app    = flag.String("app", "verzet", "Stasis application the calls go to")
		org    = flag.String("org", "acme", "VERZET_ORG of the calls")
		number = flag.String("number", "0612345678", "VERZET_NUMBER of the calls")
		camp   = flag.String("campaign", "demo", "VERZET_CAMPAIGN of the calls")
		calls  = flag.Int("calls", 1, "calls to place")
		press  = flag.String("press", "1", "key the caller presses during the offer (empty: none)")
		after  = flag.Duration("after", 2*time.Second, "when the caller presses, after the offer starts")
		sound  = flag.Duration("sound", 700*time.Millisecond, "how long each media URI plays")
		exit   = flag.Bool("exit", false, "exit after the scripted calls")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a := aritest.New(aritest.Options{Username: *user, Password: *pass,
		SoundDuration: func(string) (time.Duration, bool) { return *sound, true }})
	if err := a.Listen(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "fakeari:", err)
		os.Exit(1)
	}
	defer a.Close()
	fmt.Printf("fake Asterisk at %s (user %s); waiting for Stasis app %q to register\n", a.URL(), *user, *app)
	if err := a.WaitRegistered(ctx, *app); err != nil {
		return
	}
	for i := range *calls {
		if err := call(ctx, a, *app, map[string]string{"VERZET_ORG": *org, "VERZET_NUMBER": *number, "VERZET_CAMPAIGN": *camp}, *press, *after, i+1); err != nil {
			fmt.Fprintln(os.Stderr, "fakeari:", err)
		}
	}
	if *exit {
		return
	}
	fmt.Println("script done; serving until interrupted")
	<-ctx.Done()
}

func call(ctx context.Context, a *aritest.Asterisk, app string, vars map[string]string, press string, after time.Duration, n int) error {
	id, err := a.StartCall(app, aritest.Call{Vars: vars})
	if err != nil {
		return fmt.Errorf("call %d: %w", n, err)
	}
	fmt.Printf("call %d: channel %s in Stasis(%s)\n", n, id, app)
	wait := func(cond func(aritest.ChannelInfo) bool) bool {
		for ctx.Err() == nil {
			ch, _ := a.Channel(id)
			if cond(ch) {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	}
	if !wait(func(ch aritest.ChannelInfo) bool { return ch.Playing != "" || !ch.InStasis }) {
		return ctx.Err()
	}
	if press != "" {
		select {
		case <-time.After(after):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := a.Press(id, press); err == nil {
			fmt.Printf("call %d: caller pressed %s\n", n, press)
		}
	}
	if !wait(func(ch aritest.ChannelInfo) bool { return !ch.InStasis }) {
		return ctx.Err()
	}
	ch, _ := a.Channel(id)
	var heard []string
	for _, m := range ch.Played {
		heard = append(heard, strings.TrimPrefix(m[0], "sound:"))
	}
	end := "hung up by verzet"
	if ch.Continued {
		end = "handed back to the dialplan, VERZET_RESULT=" + ch.Vars["VERZET_RESULT"]
	}
	fmt.Printf("call %d: heard %s; %s\n", n, strings.Join(heard, ", "), end)
	return nil
}
