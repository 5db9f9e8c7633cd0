package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/review"
	"github.com/verzet/verzet/prompts"
)

// uiFeature mounts the supervisors' web UI at /ui/. On a store without
// users it makes the first admin and prints its one-time sign-in on the
// console (stderr), apart from the logs.
func uiFeature() feature {
	return feature{
		name: "ui",
		settings: func(c *Config) []setting {
			return []setting{
				{"VERZET_UI_BCRYPT_COST", "ui-bcrypt-cost", strconv.Itoa(review.DefaultBcryptCost),
					"bcrypt cost of new web UI passwords (4–31; each step doubles the time, 12 takes about a quarter second)", &c.UIBcryptCost},
			}
		},
		start: func(ctx context.Context, srv *Server) error {
			cost, err := bcryptCost(&srv.Config)
			if err != nil {
				return err
			}
			st := srv.Stores
			var cat *prompts.Catalog
			if srv.IVR != nil {
				cat = srv.IVR.Catalog
			} else {
				c, err := loadCatalog(&srv.Config)
				if err != nil {
					return err
				}
				cat = c
			}
			log := srv.Log.Named("review")
			ui, err := review.New(srv.Register, st.ui(), log, review.Config{PromptText: promptTexter(cat, st.Register), BcryptCost: cost})
			if err != nil {
				return fmt.Errorf("the review UI: %w", err)
			}
			// In the background, so that hashing the password does not
			// hold up the listener; the sign-in is printed a moment after.
			addr := srv.Config.HTTPAddr
			srv.Go(func(ctx context.Context) {
				name, password, err := review.Bootstrap(ctx, st.Access, cost, time.Now())
				switch {
				case errors.Is(err, context.Canceled):
				case err != nil:
					log.Error("make the first admin of the web UI", zap.Error(err))
				case password != "":
					log.Info("first admin made; its one-time sign-in is printed on the console", zap.String("user", name))
					printBootstrap(os.Stderr, addr, name, password)
				}
			})
			srv.Mount(func(mux *http.ServeMux) {
				mux.Handle("/ui/", ui.Handler())
				mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
			})
			srv.Go(func(ctx context.Context) {
				t := time.NewTicker(time.Hour)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						if _, err := ui.PruneSessions(ctx); err != nil {
							log.Warn("prune expired sessions", zap.Error(err))
						}
					}
				}
			})
			return nil
		},
	}
}

// bcryptCost reads VERZET_UI_BCRYPT_COST.
func bcryptCost(cfg *Config) (int, error) {
	if cfg.UIBcryptCost == "" {
		return review.DefaultBcryptCost, nil
	}
	n, err := strconv.Atoi(cfg.UIBcryptCost)
	if err != nil || n < bcrypt.MinCost || n > bcrypt.MaxCost {
		return 0, objections.Invalid("VERZET_UI_BCRYPT_COST", cfg.UIBcryptCost, "must be a number from %d to %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	return n, nil
}

// printBootstrap writes the first admin's sign-in where the operator who
// started serve sees it. The password is only ever printed, never logged
// or stored in clear, and must be changed at the first sign-in.
func printBootstrap(w io.Writer, addr, name, password string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "localhost", "8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	fmt.Fprintf(w, `
  ┌─ verzet: first sign-in ─────────────────────────────────────
  │  Open      http://%s/ui/
  │  User      %s
  │  Password  %s
  │  This password works until you choose your own at the first
  │  sign-in. It is printed once and never stored in clear.
  └─────────────────────────────────────────────────────────────

`, net.JoinHostPort(host, port), name, password)
}

// promptTexter returns the words of the offer prompt a call played: the
// prompt of that id, language and version composed again from the
// catalogue with the org's keys (or the defaults), verified against the
// hash the offer recorded.
func promptTexter(cat *prompts.Catalog, st objections.Store) func(ctx context.Context, o objections.Offer) (review.PromptText, bool) {
	return func(ctx context.Context, o objections.Offer) (review.PromptText, bool) {
		if o.PromptID == "" || o.Language == "" {
			return review.PromptText{}, false
		}
		p, err := cat.Get(o.Language, prompts.ID(o.PromptID))
		if err != nil || p.Version != o.PromptVersion {
			return review.PromptText{}, false
		}
		flows := []ivr.Flow{ivr.DefaultFlow()}
		if org, err := st.Org(ctx, o.Org); err == nil {
			flows = append([]ivr.Flow{ivr.FlowFor(org)}, flows...)
		}
		var first string
		for _, f := range flows {
			pb, err := cat.Compose(o.Language, prompts.ID(o.PromptID), prompts.Vars{OrgID: o.Org, KeyObject: f.KeyObject, KeyDecline: f.KeyDecline})
			if err != nil {
				continue
			}
			if pb.Hash == o.PromptHash {
				return review.PromptText{Text: pb.Text, Verified: true}, true
			}
			if first == "" {
				first = pb.Text
			}
		}
		if first == "" {
			return review.PromptText{}, false
		}
		return review.PromptText{Text: first}, true
	}
}

func runUsers(ctx context.Context, a *App, args []string) (int, error) {
	if len(args) == 0 {
		return exitFailure, objections.Invalid("subcommand", "", "must be one of create, list, password")
	}
	switch args[0] {
	case "create":
		return usersCreate(ctx, a, args[1:])
	case "list":
		return usersList(ctx, a, args[1:])
	case "password":
		return usersPassword(ctx, a, args[1:])
	}
	return exitFailure, objections.Invalid("subcommand", args[0], "must be one of create, list, password")
}

// userStore opens the configured store's users.
func (a *App) userStore(ctx context.Context, cfg *Config) (access.Store, func(), error) {
	s, err := openStores(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	return s.Access, func() { s.Close() }, nil
}

// readPassword reads one line from stdin; on a terminal it asks first.
// The input is not hidden: pipe it in (`printf '%s\n' "$PW" | verzet users
// create …`) where that matters.
func (a *App) readPassword() (string, error) {
	if f, ok := a.stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(a.stderr, "Password (shown as you type; end with Enter): ")
		}
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", objections.Invalid("password", "", "cannot be read from stdin: %v", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", objections.Invalid("password", "", "is empty: give it on stdin, e.g. printf '%%s\\n' \"$PASSWORD\" | verzet users create …")
	}
	return line, nil
}

func usersCreate(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("users create")
	role := fs.String("role", "supervisor", "supervisor (read, export) or admin (also void and read the audit log)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet users create --role supervisor|admin NAME < password\n\nCreates a user of the web UI (/ui/). The password is read from stdin (one line).")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 1 {
		return exitFailure, objections.Invalid("NAME", strings.Join(pos, " "), "users create takes exactly one user name")
	}
	name := strings.ToLower(strings.TrimSpace(pos[0]))
	if err := access.ValidateUserName(name); err != nil {
		return exitFailure, err
	}
	if !access.ValidUserRole(access.Role(*role)) {
		return exitFailure, objections.Invalid("role", *role, "must be supervisor or admin")
	}
	cost, err := bcryptCost(cfg)
	if err != nil {
		return exitFailure, err
	}
	password, err := a.readPassword()
	if err != nil {
		return exitFailure, err
	}
	hash, err := review.HashPassword(password, name, cost)
	if err != nil {
		return exitFailure, err
	}
	st, done, err := a.userStore(ctx, cfg)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	now := time.Now()
	u, err := access.NewUser(name, access.Role(*role), hash, "cli", now)
	if err != nil {
		return exitFailure, err
	}
	if u, err = st.CreateUser(ctx, u); err != nil {
		return exitFailure, err
	}
	if e, err := access.NewAuditEntry(now, "cli", access.AuditUserCreated, u.Name, "role "+string(u.Role), ""); err == nil {
		if err := st.AppendAudit(ctx, e); err != nil {
			return exitFailure, err
		}
	}
	fmt.Fprintf(a.stdout, "user %s created with role %s; sign in at /ui/\n", u.Name, u.Role)
	return exitOK, nil
}

func usersPassword(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("users password")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet users password NAME < password\n\nSets a new password for a user of the web UI (read from stdin); it must be changed at the next sign-in. Lifts a sign-in lock.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 1 {
		return exitFailure, objections.Invalid("NAME", strings.Join(pos, " "), "users password takes exactly one user name")
	}
	name := strings.ToLower(strings.TrimSpace(pos[0]))
	st, done, err := a.userStore(ctx, cfg)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	u, err := st.UserByName(ctx, name)
	if err != nil {
		return exitFailure, err
	}
	cost, err := bcryptCost(cfg)
	if err != nil {
		return exitFailure, err
	}
	password, err := a.readPassword()
	if err != nil {
		return exitFailure, err
	}
	hash, err := review.HashPassword(password, name, cost)
	if err != nil {
		return exitFailure, err
	}
	if _, err := st.SetPassword(ctx, u.ID, hash, true); err != nil {
		return exitFailure, err
	}
	if _, err := st.DeleteUserSessions(ctx, u.ID); err != nil {
		return exitFailure, err
	}
	if e, err := access.NewAuditEntry(time.Now(), "cli", access.AuditPasswordChanged, u.Name, "set with verzet users password", ""); err == nil {
		if err := st.AppendAudit(ctx, e); err != nil {
			return exitFailure, err
		}
	}
	fmt.Fprintf(a.stdout, "password of %s set; it must be changed at the next sign-in\n", u.Name)
	return exitOK, nil
}

func usersList(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("users list")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := parse(fs, args, validate); err != nil {
		return exitFailure, err
	}
	st, done, err := a.userStore(ctx, cfg)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	users, err := st.Users(ctx)
	if err != nil {
		return exitFailure, err
	}
	if *asJSON {
		if users == nil {
			users = []access.User{}
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return exitOK, enc.Encode(users)
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED (Europe/Amsterdam)\tLAST SIGN-IN\tSTATE")
	now := time.Now()
	for _, u := range users {
		state := "ok"
		switch {
		case u.Locked(now):
			state = "locked until " + u.LockedUntil.In(objections.Amsterdam()).Format("15:04:05")
		case u.MustChangePassword:
			state = "must change password"
		}
		last := "-"
		if !u.LastSignInAt.IsZero() {
			last = u.LastSignInAt.In(objections.Amsterdam()).Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.CreatedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04"), last, state)
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "%d user(s)\n", len(users))
	return exitOK, nil
}
