package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"golang.org/x/term"

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
		start: func(ctx context.Context, srv *Server) error {
			cost := srv.Config.UI.BcryptCost
			st := srv.Stores
			var cat *prompts.Catalog
			if srv.IVR != nil {
				cat = srv.IVR.Catalog
			} else {
				c, err := loadCatalog(srv.Config.Prompts)
				if err != nil {
					return err
				}
				cat = c
			}
			log := srv.Log.Named("review")
			ui, err := review.New(srv.Register, st.ui(), log, review.Config{PromptText: promptTexter(cat, st.Register, st.Prompts), BcryptCost: cost})
			if err != nil {
				return fmt.Errorf("the review UI: %w", err)
			}
			// In the background, so that hashing the password does not
			// hold up the listener; the sign-in is printed a moment after.
			addr, scheme := srv.Config.HTTP.Addr, "http"
			if srv.Config.HTTP.TLS() {
				scheme = "https"
			}
			srv.Go(func(ctx context.Context) {
				name, password, err := review.Bootstrap(ctx, st.Access, cost, time.Now())
				switch {
				case errors.Is(err, context.Canceled):
				case err != nil:
					log.Error("make the first admin of the web UI", zap.Error(err))
				case password != "":
					log.Info("first admin made; its one-time sign-in is printed on the console", zap.String("user", name))
					printBootstrap(os.Stderr, scheme, addr, name, password)
				}
			})
			srv.UI = true
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

// printBootstrap writes the first admin's sign-in where the operator who
// started serve sees it. The password is only ever printed, never logged
// or stored in clear, and must be changed at the first sign-in.
func printBootstrap(w io.Writer, scheme, addr, name, password string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "localhost", "8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	fmt.Fprintf(w, `
  ┌─ verzet: first sign-in ─────────────────────────────────────
  │  Open      %s://%s/ui/
  │  User      %s
  │  Password  %s
  │  This password works until you choose your own at the first
  │  sign-in. It is printed once and never stored in clear.
  └─────────────────────────────────────────────────────────────

`, scheme, net.JoinHostPort(host, port), name, password)
}

// promptTexter returns the words of the offer prompt a call played: as
// kept by its hash when the offer was made (the org's name filled in, and
// the voice that spoke them), else the prompt of that id, language and
// version composed again from the catalogue with the org's keys (or the
// defaults), verified against the hash the offer recorded.
func promptTexter(cat *prompts.Catalog, st objections.Store, kept promptStore) func(ctx context.Context, o objections.Offer) (review.PromptText, bool) {
	return func(ctx context.Context, o objections.Offer) (review.PromptText, bool) {
		if o.PromptID == "" || o.Language == "" {
			return review.PromptText{}, false
		}
		if pb, ok := keptPlayback(ctx, kept, o); ok {
			text := pb.Text
			if pb.Voice != "" {
				text += " (spoken by " + pb.Voice + ")"
			}
			return review.PromptText{Text: text, Verified: true}, true
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

// keptPlayback is what the offer's prompt said, as kept by its hash when
// it was composed (promptLibrary.keep).
func keptPlayback(ctx context.Context, kept promptStore, o objections.Offer) (objections.PromptPlayback, bool) {
	if kept == nil || o.PromptHash == "" {
		return objections.PromptPlayback{}, false
	}
	pb, err := kept.PromptPlayback(ctx, o.PromptHash)
	if err != nil || pb.Prompt != o.PromptID || pb.Language != o.Language {
		return objections.PromptPlayback{}, false
	}
	return pb, true
}

func (a *App) usersCmd() *cobra.Command {
	return group("users", "Manage the users of the web UI (/ui/)",
		`Users sign in to the supervisors' web UI at /ui/. Their passwords are read from the terminal
without echo, or as one line from a pipe; only bcrypt hashes are stored.`,
		groupAccess, a.usersCreateCmd(), a.usersListCmd(), a.usersPasswordCmd(), a.usersDisableCmd(true), a.usersDisableCmd(false),
		a.usersRoleCmd())
}

// userStore opens the configured store as the UI's.
func (a *App) userStore(ctx context.Context, cfg *Config) (access.Store, func(), error) {
	s, err := openStore(ctx, cfg.Store, existingStore)
	if err != nil {
		return nil, nil, err
	}
	return s.Access, func() { s.Close() }, nil
}

// readPassword reads the new password. On a terminal it asks twice and
// does not echo what is typed; from a pipe it reads one line
// (printf '%s\n' "$PW" | verzet users create …).
func (a *App) readPassword() (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(a.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(a.stderr)
			if err != nil {
				return "", objections.Invalid("password", "", "cannot be read from the terminal: %v", err)
			}
			return string(b), nil
		}
		pw, err := ask("New password (not shown): ")
		if err != nil {
			return "", err
		}
		if pw == "" {
			return "", objections.Invalid("password", "", "is empty")
		}
		again, err := ask("The same again: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", objections.Invalid("password", "", "differs the second time; nothing was changed")
		}
		return pw, nil
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", objections.Invalid("password", "", "cannot be read from stdin: %v", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", objections.Invalid("password", "", "is empty: type it at the prompt, or give it on stdin, e.g. printf '%%s\\n' \"$PASSWORD\" | verzet users create …")
	}
	return line, nil
}

// passwordHash reads the new password of user name and hashes it.
func (a *App) passwordHash(name string, cost int) (string, error) {
	password, err := a.readPassword()
	if err != nil {
		return "", err
	}
	return review.HashPassword(password, name, cost)
}

func (a *App) usersCreateCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "create [--role ROLE] [--org ID …] NAME",
		Short: "Create a user of the web UI; the password is asked for (or read from stdin)",
		Long: `Creates a user of the web UI (/ui/). On a terminal the password is asked for twice and not
shown; from a pipe it is read as one line. Prints the store it was written to.

With --org the user sees only those orgs (set up first with 'verzet orgs set'); for an agency,
also the objections and offers of its own calls for the advertisers that list it. Without --org
the user sees every org.`,
		Example: `  verzet users create --role admin ada
  verzet users create --role supervisor --org acme sam
  printf '%s\n' "$PASSWORD" | verzet users create --role supervisor sam`,
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.UI)
	role := cmd.Flags().String("role", "supervisor", "supervisor (read, export) or admin (also void and read the audit log)")
	orgFlags := cmd.Flags().StringArray("org", nil, "see only this org (repeat for several); default every org")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("NAME", strings.Join(args, " "), "users create takes exactly one user name")
		}
		name := strings.ToLower(strings.TrimSpace(args[0]))
		if err := access.ValidateUserName(name); err != nil {
			return exitFailure, err
		}
		if !access.ValidUserRole(access.Role(*role)) {
			return exitFailure, objections.Invalid("role", *role, "must be supervisor or admin")
		}
		if _, err := access.Scope(*orgFlags).Normalize(); err != nil {
			return exitFailure, err
		}
		s, err := openStore(ctx, cfg.Store, existingStore)
		if err != nil {
			return exitFailure, err
		}
		defer s.Close()
		st := s.Access
		orgs, err := scopeOf(ctx, s.Register, *orgFlags)
		if err != nil {
			return exitFailure, err
		}
		hash, err := a.passwordHash(name, cfg.UI.BcryptCost)
		if err != nil {
			return exitFailure, err
		}
		now := time.Now()
		u, err := access.NewUser(name, access.Role(*role), orgs, hash, "cli", now)
		if err != nil {
			return exitFailure, err
		}
		if u, err = st.CreateUser(ctx, u); err != nil {
			return exitFailure, err
		}
		if e, err := access.NewAuditEntry(now, "cli", access.AuditUserCreated, u.Name, "role="+string(u.Role)+" orgs="+scopeColumn(u.Orgs), ""); err == nil {
			e.Orgs = u.Orgs
			if err := st.AppendAudit(ctx, e); err != nil {
				return exitFailure, err
			}
		}
		fmt.Fprintf(a.stdout, "user %s created with role %s, reaching %s, in %s; sign in at /ui/\n", u.Name, u.Role, u.Orgs, cfg.Store.Where())
		return exitOK, nil
	})
}

func (a *App) usersPasswordCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "password NAME",
		Short: "Set a new password for a user of the web UI and lift a sign-in lock",
		Long: `Sets a new password for a user of the web UI (asked for on a terminal, or one line from a
pipe); it must be changed at the next sign-in. Ends the user's sessions and lifts a sign-in
lock.`,
		Example: "  verzet users password ada",
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.UI)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("NAME", strings.Join(args, " "), "users password takes exactly one user name")
		}
		name := strings.ToLower(strings.TrimSpace(args[0]))
		st, done, err := a.userStore(ctx, &cfg)
		if err != nil {
			return exitFailure, err
		}
		defer done()
		u, err := st.UserByName(ctx, name)
		if err != nil {
			return exitFailure, err
		}
		hash, err := a.passwordHash(name, cfg.UI.BcryptCost)
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
		fmt.Fprintf(a.stdout, "password of %s set in %s; it must be changed at the next sign-in\n", u.Name, cfg.Store.Where())
		return exitOK, nil
	})
}

func (a *App) usersListCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the users of the web UI",
		Long:    "Lists the users of the web UI: role, when created, last sign-in, and whether disabled, locked or due to change their password. Changes nothing.",
		Example: "  verzet users list\n  verzet users list --json",
	}
	b := a.storeBinding(cmd, &cfg)
	asJSON := cmd.Flags().Bool("json", false, "print a JSON array")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "users list takes flags only")
		}
		st, done, err := a.userStore(ctx, &cfg)
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
			return exitOK, printJSON(a, users)
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tORGS\tCREATED (Europe/Amsterdam)\tLAST SIGN-IN\tSTATE")
		now := time.Now()
		for _, u := range users {
			state := "ok"
			switch {
			case u.Disabled():
				state = "disabled since " + u.DisabledAt.In(objections.Amsterdam()).Format("2006-01-02 15:04")
			case u.Locked(now):
				state = "locked until " + u.LockedUntil.In(objections.Amsterdam()).Format("15:04:05")
			case u.MustChangePassword:
				state = "must change password"
			}
			last := "-"
			if !u.LastSignInAt.IsZero() {
				last = u.LastSignInAt.In(objections.Amsterdam()).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, scopeColumn(u.Orgs), u.CreatedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04"), last, state)
		}
		tw.Flush()
		fmt.Fprintf(a.stdout, "%d user(s)\n", len(users))
		return exitOK, nil
	})
}

// usersDisableCmd is `users disable` (disable) or `users enable`.
func (a *App) usersDisableCmd(disable bool) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "enable NAME",
		Short: "Let a disabled user of the web UI sign in again",
		Long: `Enables a user of the web UI that was disabled: it may sign in again with its password. Also
lifts a sign-in lock. Audited.`,
		Example: "  verzet users enable sam",
	}
	if disable {
		cmd.Use, cmd.Short, cmd.Example = "disable NAME", "Stop a user of the web UI from signing in, and sign it out", "  verzet users disable sam"
		cmd.Long = `Disables a user of the web UI: it cannot sign in (it is told what a wrong password is told)
and its sessions end at once. Nothing it did is removed; 'verzet users enable' undoes it.
Audited.`
	}
	b := a.storeBinding(cmd, &cfg)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("NAME", strings.Join(args, " "), "users %s takes exactly one user name", cmd.Name())
		}
		st, done, err := a.userStore(ctx, &cfg)
		if err != nil {
			return exitFailure, err
		}
		defer done()
		u, err := st.UserByName(ctx, strings.ToLower(strings.TrimSpace(args[0])))
		if err != nil {
			return exitFailure, err
		}
		now := time.Now()
		action, at, what := access.AuditUserEnabled, time.Time{}, "enabled" // the zero time enables
		if disable {
			action, at, what = access.AuditUserDisabled, now, "disabled; its sessions have ended"
		}
		if u, err = st.SetUserDisabled(ctx, u.ID, at); err != nil {
			return exitFailure, err
		}
		if disable {
			if _, err := st.DeleteUserSessions(ctx, u.ID); err != nil {
				return exitFailure, err
			}
		}
		if err := appendCLIAudit(ctx, st, now, action, u.Name, "", u.Orgs); err != nil {
			return exitFailure, err
		}
		fmt.Fprintf(a.stdout, "user %s %s in %s\n", u.Name, what, cfg.Store.Where())
		return exitOK, nil
	})
}

func (a *App) usersRoleCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "role --role ROLE [--org ID … | --all-orgs] NAME",
		Short: "Change the role and org scope of a user of the web UI",
		Long: `Sets the role of a user of the web UI, and with --org the orgs it sees (set up first with
'verzet orgs set'; repeat for several), or with --all-orgs every org. Without either the
scope stays as it is. The change applies from the user's next page. Audited.`,
		Example: `  verzet users role --role admin sam
  verzet users role --role supervisor --org acme --org beta sam
  verzet users role --role supervisor --all-orgs sam`,
	}
	b := a.storeBinding(cmd, &cfg)
	role := cmd.Flags().String("role", "", "supervisor (read, export, record objections) or admin (also void, manage users, read the audit log)")
	orgFlags := cmd.Flags().StringArray("org", nil, "see only this org (repeat for several)")
	allOrgs := cmd.Flags().Bool("all-orgs", false, "see every org")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("NAME", strings.Join(args, " "), "users role takes exactly one user name")
		}
		if *allOrgs && len(*orgFlags) > 0 {
			return exitFailure, objections.Invalid("org", strings.Join(*orgFlags, ","), "cannot go with --all-orgs")
		}
		s, err := openStore(ctx, cfg.Store, existingStore)
		if err != nil {
			return exitFailure, err
		}
		defer s.Close()
		st := s.Access
		u, err := st.UserByName(ctx, strings.ToLower(strings.TrimSpace(args[0])))
		if err != nil {
			return exitFailure, err
		}
		newRole := u.Role
		if *role != "" {
			newRole = access.Role(*role)
		}
		orgs := u.Orgs
		switch {
		case *allOrgs:
			orgs = nil
		case len(*orgFlags) > 0:
			if orgs, err = scopeOf(ctx, s.Register, *orgFlags); err != nil {
				return exitFailure, err
			}
		case *role == "":
			return exitFailure, objections.Invalid("role", "", "give --role, --org or --all-orgs: there is nothing to change")
		}
		if orgs, err = access.CheckUserAccess(newRole, orgs); err != nil {
			return exitFailure, err
		}
		updated, err := st.SetUserAccess(ctx, u.ID, newRole, orgs)
		if err != nil {
			return exitFailure, err
		}
		detail := "role=" + string(updated.Role) + " orgs=" + scopeColumn(updated.Orgs) + " was_role=" + string(u.Role) + " was_orgs=" + scopeColumn(u.Orgs)
		auditOrgs := append(slices.Clone(u.Orgs), updated.Orgs...)
		if u.Orgs.All() || updated.Orgs.All() {
			auditOrgs = nil
		}
		if err := appendCLIAudit(ctx, st, time.Now(), access.AuditUserChanged, u.Name, detail, auditOrgs); err != nil {
			return exitFailure, err
		}
		fmt.Fprintf(a.stdout, "user %s now has role %s, reaching %s, in %s\n", updated.Name, updated.Role, updated.Orgs, cfg.Store.Where())
		return exitOK, nil
	})
}

// appendCLIAudit audits a change made with the CLI (actor "cli").
func appendCLIAudit(ctx context.Context, st access.AuditStore, now time.Time, action access.AuditAction, subject, detail string, orgs access.Scope) error {
	e, err := access.NewAuditEntry(now, "cli", action, subject, detail, "")
	if err != nil {
		return err
	}
	e.Orgs = orgs
	return st.AppendAudit(ctx, e)
}
