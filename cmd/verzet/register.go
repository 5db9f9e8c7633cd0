package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

func (a *App) initCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a new, empty store (the embedded one in the data dir, or PostgreSQL's schema)",
		Long: `Creates the store the other commands use: the embedded SQLite store (verzet.db in
VERZET_DATA_DIR, creating the folder) or, with VERZET_DATABASE_URL, verzet's schema in that
PostgreSQL database. On an existing store it only brings the schema up to date.

serve and migrate create the store too; every other command refuses a store that does not
exist, so that a command run from the wrong folder cannot write into a new, empty one.`,
		Example: `  verzet init --data-dir /srv/verzet
  VERZET_DATABASE_URL=postgres://verzet:…@db:5432/verzet verzet init`,
		GroupID: groupServer,
	}
	b := newBinding(a.env, cmd.Flags()).flags(&cfg.Store)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "init takes no arguments")
		}
		existed, err := storeExists(ctx, cfg.Store)
		if err != nil {
			return exitFailure, err
		}
		s, err := openStore(ctx, cfg.Store, createStore)
		if err != nil {
			return exitFailure, err
		}
		defer s.Close()
		if existed {
			fmt.Fprintf(a.stdout, "store %s exists already; its schema is up to date\n", cfg.Store.Where())
			return exitOK, nil
		}
		fmt.Fprintf(a.stdout, "created a new store in %s\n", cfg.Store.Where())
		fmt.Fprintln(a.stdout, "next: verzet orgs set ID --name NAME --sector charity|lottery|press|other, then verzet serve with the same settings")
		return exitOK, nil
	})
}

// storeExists reports whether the configured store exists (for init's
// message); PostgreSQL that cannot be reached is an error.
func storeExists(ctx context.Context, c StoreConfig) (bool, error) {
	if c.DatabaseURL == "" {
		return sqliteExists(c) == nil, nil
	}
	s, err := openStore(ctx, c, createStoreNoMigrate)
	if err != nil {
		return false, err
	}
	defer s.Close()
	if s.pg == nil {
		return false, nil
	}
	v, err := s.pg.SchemaVersion(ctx)
	return v > 0, err
}

func (a *App) migrateCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the schema migrations to the store and exit (--status: only show them)",
		Long: `Brings the store's schema up to date with this binary (PostgreSQL: under an advisory lock,
so that instances starting at once apply each migration once), creating the store when it
does not exist. serve does the same at start-up unless --no-migrate is given. Migrations
only go forward: there is no migrating down.

With --status it changes and creates nothing: it lists the migrations the store has applied
(with when) and those pending, and exits 0 when none is pending, 1 when some are (or there
is no store yet), 2 on an error.`,
		Example: `  VERZET_DATABASE_URL=postgres://verzet:…@db:5432/verzet verzet migrate
  verzet migrate --data-dir /srv/verzet
  verzet migrate --status || verzet migrate   # before a rolling update`,
		GroupID: groupServer,
	}
	b := newBinding(a.env, cmd.Flags()).flags(&cfg.Store)
	status := cmd.Flags().Bool("status", false, "list applied and pending migrations, change nothing; exit 0 up to date, 1 pending, 2 error")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "migrate takes no arguments")
		}
		if *status {
			return a.migrateStatus(ctx, cfg.Store)
		}
		s, err := openStore(ctx, cfg.Store, createStore)
		if err != nil {
			return exitFailure, err
		}
		defer s.Close()
		fmt.Fprintf(a.stdout, "migrated: the %s store %s is up to date\n", cfg.Store.Kind(), cfg.Store.Where())
		return exitOK, nil
	})
}

// knownOrg refuses an org the store does not know, naming the closest
// known ids. On the command line an org is typed by a person: a typo must
// not start a new org, nor answer for one that has no objections. (Calls
// still create the org they name: a key press is never refused.)
// field names where the org came from: "org", or VERZET_DEFAULT_ORG.
func knownOrg(ctx context.Context, reg *objections.Register, field, org string) error {
	_, err := reg.KnownOrg(ctx, field, org)
	var e *objections.Error
	if objections.ErrorCode(err) != objections.ENOTFOUND || !errors.As(err, &e) {
		return err
	}
	e.Message += fmt.Sprintf("; 'verzet orgs list' shows the orgs, 'verzet orgs set %s --name NAME --sector SECTOR' adds it", org)
	return e
}

// registerFor checks the org (--org, else VERZET_DEFAULT_ORG) and the
// number a command was given, opens the existing store, and refuses an
// org the store does not know.
func (a *App) registerFor(ctx context.Context, cfg *Config, orgFlag, number string) (*objections.Register, string, func(), error) {
	org, err := cfg.Orgs.org(orgFlag)
	if err != nil {
		return nil, "", nil, err
	}
	if _, err := (objections.Numbers{Region: cfg.Numbers.Region}).Normalize(number); err != nil {
		return nil, "", nil, err
	}
	reg, done, err := a.register(ctx, cfg)
	if err != nil {
		return nil, "", nil, err
	}
	field := "org"
	if strings.TrimSpace(orgFlag) == "" {
		field = "VERZET_DEFAULT_ORG"
	}
	if err := knownOrg(ctx, reg, field, org); err != nil {
		done()
		return nil, "", nil, err
	}
	return reg, org, done, nil
}

func (a *App) checkCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "check NUMBER",
		Short: "May ORG call NUMBER now? Exit 0 callable, 1 not callable, 2 error",
		Long: `Prints the callability decision for one number: CALLABLE or NOT CALLABLE, the basis and
the reasons (an objection, no basis, …), as the dial-time API answers it. Changes nothing.

Exit status: 0 callable, 1 not callable, 2 error (a bad number, an org the store does not
know, no store).`,
		Example: `  verzet check "06 1234 5678" --org acme
  verzet check +31612345678 --org acme --json`,
		GroupID: groupRegister,
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.Numbers).envOnly(&cfg.Orgs, "VERZET_DEFAULT_ORG")
	org := cmd.Flags().String("org", "", "organisation (default VERZET_DEFAULT_ORG)")
	person := cmd.Flags().String("person", "", "person/contact id, when the dialer knows it")
	asJSON := cmd.Flags().Bool("json", false, "print the decision as JSON")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("NUMBER", strings.Join(args, " "), "check takes exactly one number")
		}
		reg, o, done, err := a.registerFor(ctx, &cfg, *org, args[0])
		if err != nil {
			return exitFailure, err
		}
		defer done()
		d, err := reg.Decide(ctx, o, args[0], *person, time.Time{})
		if err != nil {
			return exitFailure, err
		}
		if *asJSON {
			if err := printJSON(a, d); err != nil {
				return exitFailure, err
			}
		} else {
			fmt.Fprintln(a.stdout, describeDecision(d))
		}
		if !d.Callable {
			return exitNo, nil
		}
		return exitOK, nil
	})
}

func printJSON(a *App, v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func describeDecision(d objections.Decision) string {
	reasons := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		reasons[i] = string(r)
	}
	if d.Callable {
		s := fmt.Sprintf("CALLABLE      %s org=%s basis=%s reasons=%s", d.Number, d.Org, d.Basis, strings.Join(reasons, ","))
		if d.Basis == objections.BasisCustomerRelation {
			s += " — this call must offer the right to object"
		}
		return s
	}
	s := fmt.Sprintf("NOT CALLABLE  %s org=%s reasons=%s", d.Number, d.Org, strings.Join(reasons, ","))
	if d.Objection != nil {
		s += fmt.Sprintf(" — objection %s received %s via %s", d.Objection.ID,
			d.Objection.ReceivedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05 MST"), d.Objection.Source)
	}
	return s
}

func (l listFlags) objectionFilter(reg *objections.Register) (objections.ObjectionFilter, error) {
	f := objections.ObjectionFilter{Org: strings.ToLower(*l.org), Campaign: *l.campaign}
	var err error
	if *l.number != "" {
		if f.Number, err = reg.Numbers().Normalize(*l.number); err != nil {
			return f, err
		}
	}
	if f.Since, err = parseTime("since", *l.since); err != nil {
		return f, err
	}
	if f.Until, err = parseTime("until", *l.until); err != nil {
		return f, err
	}
	if l.source != nil && *l.source != "" {
		f.Source = objections.Source(*l.source)
		if !f.Source.Valid() {
			return f, objections.Invalid("source", *l.source, "is not a known source")
		}
	}
	if l.status != nil && *l.status != "" {
		f.Status = objections.Status(*l.status)
		if !f.Status.Valid() {
			return f, objections.Invalid("status", *l.status, "must be active, voided or pending_number")
		}
	}
	return f, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *App) objectionsCmd() *cobra.Command {
	return group("objections", "List, show, record and export objections",
		`Objections are the register's evidence: who may no longer be called, by which org, since
when, and how the objection came in. list, show and export read them; record adds one.`,
		groupRegister, a.objectionsListCmd("list"), a.objectionsListCmd("export"), a.objectionsShowCmd(), a.objectionsRecordCmd())
}

type listFlags struct {
	org, number, since, until, campaign, source, status *string
	limit                                               *int
}

func bindListFlags(fs *pflag.FlagSet, withStatus bool) listFlags {
	l := listFlags{
		org:      fs.String("org", "", "only this organisation"),
		number:   fs.String("number", "", "only this number (any format)"),
		since:    fs.String("since", "", "received at or after: 2026-03-01, RFC 3339, or a duration ago (24h)"),
		until:    fs.String("until", "", "received before"),
		campaign: fs.String("campaign", "", "only this campaign reference"),
		limit:    fs.Int("limit", 0, "at most this many (default: all)"),
	}
	if withStatus {
		l.source = fs.String("source", "", "only this source (ivr-twilio, ivr-ari, agent, …)")
		l.status = fs.String("status", "", "only this status (active, voided, pending_number)")
	}
	return l
}

// eachObjection pages through every objection matching f, up to limit (0: all).
func eachObjection(ctx context.Context, s objections.Store, f objections.ObjectionFilter, limit int, fn func(objections.Objection) error) error {
	n := 0
	f.Limit = 1000
	for {
		page, err := s.Objections(ctx, f)
		if err != nil {
			return err
		}
		for _, o := range page {
			if limit > 0 && n >= limit {
				return nil
			}
			if err := fn(o); err != nil {
				return err
			}
			n++
		}
		if len(page) < f.PageLimit() {
			return nil
		}
		f.After = page[len(page)-1].ID
	}
}

// objectionJSON is the stable JSON shape of `objections list --json`,
// shared with the /v1 API.
type objectionJSON = objections.ObjectionView

func toJSON(o objections.Objection) objectionJSON { return o.View() }

// filter reads the list flags; an --org the store does not know is an
// error, not an empty list.
func (l listFlags) filter(ctx context.Context, reg *objections.Register) (objections.ObjectionFilter, error) {
	f, err := l.objectionFilter(reg)
	if err != nil {
		return f, err
	}
	if f.Org != "" {
		if err := objections.ValidateOrgID(f.Org); err != nil {
			return f, err
		}
		if err := knownOrg(ctx, reg, "org", f.Org); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (a *App) objectionsListCmd(sub string) *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   sub,
		Short: "List objections (newest last), as a table or JSON",
		Long:  "Lists the objections that match the flags: a table, or a JSON array with --json. Changes nothing.",
		Example: `  verzet objections list --org acme --since 24h
  verzet objections list --number "06 1234 5678" --json`,
	}
	if sub == "export" {
		cmd.Short = "Export objections as CSV (one row per objection, with a header)"
		cmd.Long = "Writes the objections that match the flags as CSV on stdout, with a header row. Changes nothing."
		cmd.Example = "  verzet objections export --org acme --since 2026-03-01 > objections.csv"
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.Numbers)
	lf := bindListFlags(cmd.Flags(), true)
	var asJSON *bool
	if sub == "list" {
		asJSON = cmd.Flags().Bool("json", false, "print a JSON array")
	}
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "objections %s takes flags only", sub)
		}
		reg, done, err := a.register(ctx, &cfg)
		if err != nil {
			return exitFailure, err
		}
		defer done()
		f, err := lf.filter(ctx, reg)
		if err != nil {
			return exitFailure, err
		}
		switch {
		case sub == "export":
			w := csv.NewWriter(a.stdout)
			_ = w.Write(objections.ExportHeader())
			err = eachObjection(ctx, reg.Store(), f, *lf.limit, func(o objections.Objection) error { return w.Write(objections.ExportRow(o)) })
			w.Flush()
			if err == nil {
				err = w.Error()
			}
		case *asJSON:
			items := []objectionJSON{}
			err = eachObjection(ctx, reg.Store(), f, *lf.limit, func(o objections.Objection) error { items = append(items, toJSON(o)); return nil })
			if err == nil {
				err = printJSON(a, items)
			}
		default:
			tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRECEIVED (Europe/Amsterdam)\tORG\tNUMBER\tSOURCE\tCAMPAIGN\tCALL\tSTATUS")
			n := 0
			err = eachObjection(ctx, reg.Store(), f, *lf.limit, func(o objections.Objection) error {
				n++
				_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.ReceivedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05"),
					o.Org, dash(o.Number), o.Source, dash(o.CampaignRef), dash(o.CallRef), o.Status)
				return err
			})
			tw.Flush()
			fmt.Fprintf(a.stdout, "%d objection(s)\n", n)
		}
		if err != nil {
			return exitFailure, err
		}
		return exitOK, nil
	})
}

func (a *App) objectionsShowCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:     "show ID",
		Short:   "Show one objection with the offer (the call's evidence) behind it, as JSON",
		Long:    "Prints one objection and, when it came from a call, the offer that proves the right to object was offered. Changes nothing.",
		Example: "  verzet objections show 01JQ3W9T6N8X4K2M5P7R9S1V3W",
	}
	b := a.storeBinding(cmd, &cfg)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("ID", strings.Join(args, " "), "show takes exactly one objection id")
		}
		reg, done, err := a.register(ctx, &cfg)
		if err != nil {
			return exitFailure, err
		}
		defer done()
		o, err := reg.Store().Objection(ctx, args[0])
		if err != nil {
			return exitFailure, err
		}
		out := struct {
			objectionJSON
			Offer *objections.Offer `json:"offer,omitempty"`
		}{objectionJSON: toJSON(o)}
		if o.OfferID != "" {
			if off, err := reg.Store().Offer(ctx, o.OfferID); err == nil {
				out.Offer = &off
			} else if objections.ErrorCode(err) != objections.ENOTFOUND {
				return exitFailure, err
			}
		}
		return exitOK, printJSON(a, out)
	})
}

func (a *App) objectionsRecordCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "record NUMBER",
		Short: "Record an objection that came in another way (agent, letter, e-mail, …)",
		Long: `Adds an objection to the register: from the moment it is committed, ORG may no longer call
NUMBER on the customer-relation basis. The org must be one the store knows (verzet orgs
list). Recording the same number for the same org again is harmless: it says "already
recorded". Prints the objection's id and the store it was written to.`,
		Example: `  verzet objections record "06 1234 5678" --org acme --source agent --campaign spring
  verzet objections record +31612345678 --org acme --source letter --note "brief van 3 maart"`,
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.Numbers).envOnly(&cfg.Orgs, "VERZET_DEFAULT_ORG")
	fs := cmd.Flags()
	org := fs.String("org", "", "organisation (default VERZET_DEFAULT_ORG)")
	source := fs.String("source", "agent", "how the objection came in: agent, callback-line, email, letter, web, api, import, ivr-twilio, ivr-ari")
	campaign := fs.String("campaign", "", "campaign reference")
	person := fs.String("person", "", "person/contact id")
	lead := fs.String("lead", "", "dialer lead reference")
	agent := fs.String("agent", "", "agent reference")
	note := fs.String("note", "", "free text, e.g. what the person said")
	actor := fs.String("actor", "cli", "who records it")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("NUMBER", strings.Join(args, " "), "record takes exactly one number")
		}
		reg, o, done, err := a.registerFor(ctx, &cfg, *org, args[0])
		if err != nil {
			return exitFailure, err
		}
		defer done()
		rec, created, err := reg.Record(ctx, objections.Objection{Org: o, RawNumber: args[0], Source: objections.Source(*source),
			CampaignRef: *campaign, PersonID: *person, LeadRef: *lead, AgentRef: *agent, Note: *note, Actor: *actor})
		if err != nil {
			return exitFailure, err
		}
		verb := "recorded"
		if !created {
			verb = "already recorded"
		}
		fmt.Fprintf(a.stdout, "%s objection %s in %s: %s may no longer call %s (since %s)\n", verb, rec.ID, cfg.Store.Where(), rec.Org, rec.Number,
			rec.ReceivedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05 MST"))
		return exitOK, nil
	})
}

func (a *App) offersCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List offers: the evidence, per call, that the right to object was offered",
		Long: `Lists the offers that match the flags: per call, the prompt played (id, version, language),
how long it played, the keys pressed and the outcome. Changes nothing.`,
		Example: `  verzet offers list --org acme --since 24h
  verzet offers list --outcome objected --json`,
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.Numbers)
	lf := bindListFlags(cmd.Flags(), false)
	outcome := cmd.Flags().String("outcome", "", "only this outcome (objected, declined, no_input, invalid_input, hangup_during_prompt, error)")
	asJSON := cmd.Flags().Bool("json", false, "print a JSON array")
	a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "offers list takes flags only")
		}
		reg, done, err := a.register(ctx, &cfg)
		if err != nil {
			return exitFailure, err
		}
		defer done()
		of, err := lf.filter(ctx, reg)
		if err != nil {
			return exitFailure, err
		}
		f := objections.OfferFilter{Org: of.Org, Number: of.Number, Campaign: of.Campaign, Since: of.Since, Until: of.Until, Limit: 1000}
		if *outcome != "" {
			f.Outcome = objections.Outcome(*outcome)
			if !f.Outcome.Valid() {
				return exitFailure, objections.Invalid("outcome", *outcome, "is not a known outcome")
			}
		}
		var items []objections.Offer
		for {
			page, err := reg.Store().Offers(ctx, f)
			if err != nil {
				return exitFailure, err
			}
			items = append(items, page...)
			if len(page) < f.PageLimit() || (*lf.limit > 0 && len(items) >= *lf.limit) {
				break
			}
			f.After = page[len(page)-1].ID
		}
		if *lf.limit > 0 && len(items) > *lf.limit {
			items = items[:*lf.limit]
		}
		if *asJSON {
			if items == nil {
				items = []objections.Offer{}
			}
			return exitOK, printJSON(a, items)
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTARTED (Europe/Amsterdam)\tORG\tNUMBER\tPROVIDER\tCALL\tPROMPT\tPLAYED\tKEYS\tOUTCOME")
		for _, o := range items {
			keys := make([]string, len(o.Keys))
			for i, k := range o.Keys {
				keys[i] = k.Digit
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.StartedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05"),
				o.Org, dash(o.Number), o.Provider, o.CallRef, dash(strings.Trim(o.PromptID+"@"+o.PromptVersion+"/"+o.Language, "@/")),
				strconv.FormatFloat(float64(o.PlayedMS)/1000, 'f', 1, 64)+"s", dash(strings.Join(keys, "")), o.Outcome)
		}
		tw.Flush()
		fmt.Fprintf(a.stdout, "%d offer(s)\n", len(items))
		return exitOK, nil
	})
	return group("offers", "List offers (evidence that the right to object was offered)",
		"Offers are the evidence that each call offered the right to object: what was played, and what the caller pressed.",
		groupRegister, cmd)
}

func (a *App) orgsCmd() *cobra.Command {
	return group("orgs", "Set up and list organisations",
		`Organisations are the callers the register answers for: each has its own objections, a
sector (which decides whether the customer-relation basis still applies) and a relation term.`,
		groupRegister, a.orgsSetCmd(), a.orgsListCmd())
}

func (a *App) orgsListCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the organisations the store knows",
		Long:    "Lists the organisations, with those a call created on its own marked for review. Changes nothing.",
		Example: "  verzet orgs list\n  verzet orgs list --json",
	}
	b := a.storeBinding(cmd, &cfg)
	asJSON := cmd.Flags().Bool("json", false, "print a JSON array")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "orgs list takes flags only")
		}
		reg, done, err := a.register(ctx, &cfg)
		if err != nil {
			return exitFailure, err
		}
		defer done()
		orgs, err := reg.Store().Orgs(ctx)
		if err != nil {
			return exitFailure, err
		}
		if *asJSON {
			if orgs == nil {
				orgs = []objections.Org{}
			}
			return exitOK, printJSON(a, orgs)
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tKIND\tAGENCIES\tSECTOR\tTERM\tLANG\tNOTE")
		for _, o := range orgs {
			note := ""
			if o.AutoCreated {
				note = "auto-created during a call: review with 'verzet orgs set'"
			}
			agencies := "-"
			if len(o.Agencies) > 0 {
				agencies = objections.JoinIDs(o.Agencies)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%dm\t%s\t%s\n", o.ID, o.Name, o.Kind, agencies, o.Sector, o.RelationTermMonths, o.Language, note)
		}
		tw.Flush()
		return exitOK, nil
	})
}

func (a *App) orgsSetCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "set ID",
		Short: "Create or update an organisation",
		Long: `Creates the organisation ID, or updates it: its display name (spoken in prompts), sector,
customer-relation term, prompt language and dialogue rules. Prints the store it wrote to.

An org is an advertiser (the party calls are made for; the default) or, with --kind agency, a
call centre calling for advertisers. An advertiser names with --agency each agency that may
call for it (set the agency up first); --agency replaces the list, --no-agencies empties it, and
without either the list (and the kind, without --kind) stays as it was. An objection made on
an agency's call for an advertiser blocks both, and is flagged when the advertiser did not
list the agency.

The display name is spoken in every offer and confirmation, in every language of the prompt
catalogue. Where no recording of the name exists (verzet prompts record org --org ID), it is
synthesised with espeak-ng and kept in the store, marked synthetic; the command says which.
Without espeak-ng the prompts say the generic wording ("deze organisatie") until a recording
is made. --twilio-voice lets Twilio's text-to-speech speak the org's prompts, name included,
in that language (it replaces the list; --no-twilio-voices empties it; without either it stays).`,
		Example: `  verzet orgs set acme --name "Acme Goede Doelen" --sector charity
  verzet orgs set callcenter1 --name "Callcenter Eén" --kind agency
  verzet orgs set acme --name "Acme Goede Doelen" --sector charity --agency callcenter1
  verzet orgs set acme --name "Acme Goede Doelen" --twilio-voice nl=Polly.Lotte --twilio-voice en=Polly.Amy
  verzet orgs set zonneveld --name "Zonneveld Energie" --sector other --term 48 --justification "DPIA 2026-02"`,
	}
	b := a.storeBinding(cmd, &cfg).envOnly(&cfg.Orgs, "VERZET_RELATION_TERM").envOnly(&cfg.Prompts)
	fs := cmd.Flags()
	name := fs.String("name", "", "display name, spoken in prompts (required, at most 128 characters)")
	sector := fs.String("sector", "other", "charity, lottery, press or other (only the first three keep the customer-relation basis after 2026-07-01)")
	term := fs.String("term", "", "customer-relation term: months (36), 36m or 3y (default VERZET_RELATION_TERM)")
	justification := fs.String("justification", "", "reference to the written justification a term over 36 months needs")
	lang := fs.String("lang", "nl", "default prompt language")
	profile := fs.String("ivr-profile", "", "dialogue rules: nl (offer, key, confirmation) or us (opt-out key records and ends the call at once)")
	keyObject := fs.String("key-object", "", "key that objects (default 1)")
	keyDecline := fs.String("key-decline", "", "key that declines (default 2)")
	keyTimeout := fs.Duration("key-timeout", 0, "how long to wait for a key after the offer (default 6s)")
	after := fs.String("after", "", "after the dialogue: hangup (default) or continue in the Asterisk dialplan")
	kind := fs.String("kind", "advertiser", "advertiser (calls are made for it) or agency (a call centre calling for advertisers)")
	agencies := fs.StringArray("agency", nil, "an agency that may call for this advertiser (repeat for several)")
	noAgencies := fs.Bool("no-agencies", false, "no agency may call for this advertiser any more")
	onError := fs.String("on-error", "", "when a prompt cannot be played (outcome error): handback (default: continue in the Asterisk dialplan with VERZET_RESULT=error) or hangup")
	voices := fs.StringArray("twilio-voice", nil, "LANG=VOICE: a Twilio text-to-speech voice for the org's prompts in LANG, e.g. nl=Polly.Lotte (repeat per language)")
	noVoices := fs.Bool("no-twilio-voices", false, "play the prompts' audio on Twilio again instead of the org's voices")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 1 {
			return exitFailure, objections.Invalid("ID", strings.Join(args, " "), "orgs set takes exactly one org id")
		}
		months := cfg.Orgs.RelationTermMonths
		if *term != "" {
			var err error
			if months, err = parseTerm(*term); err != nil {
				return exitFailure, objections.Invalid("term", *term, "%s", err)
			}
		}
		if *noAgencies && len(*agencies) > 0 {
			return exitFailure, objections.Invalid("no-agencies", "true", "contradicts --agency: give one or the other")
		}
		if *noVoices && len(*voices) > 0 {
			return exitFailure, objections.Invalid("no-twilio-voices", "true", "contradicts --twilio-voice: give one or the other")
		}
		cat, err := loadCatalog(cfg.Prompts)
		if err != nil {
			return exitFailure, err
		}
		st, err := openStore(ctx, cfg.Store, existingStore)
		if err != nil {
			return exitFailure, err
		}
		defer st.Close()
		reg := st.newRegister(&cfg)
		twilioVoices := strings.Join(*voices, ",")
		if !fs.Changed("agency") && !*noAgencies || !fs.Changed("kind") || !fs.Changed("twilio-voice") && !*noVoices {
			old, err := reg.Store().Org(ctx, strings.ToLower(strings.TrimSpace(args[0])))
			switch {
			case err == nil:
				if !fs.Changed("agency") && !*noAgencies {
					*agencies = old.Agencies
				}
				if !fs.Changed("kind") {
					*kind = string(old.Kind)
				}
				if !fs.Changed("twilio-voice") && !*noVoices {
					twilioVoices = old.IVR.TwilioVoices
				}
			case objections.ErrorCode(err) != objections.ENOTFOUND:
				return exitFailure, err
			}
		}
		o, err := reg.SetOrg(ctx, objections.Org{ID: args[0], Name: *name, Sector: objections.Sector(*sector),
			RelationTermMonths: months, TermJustification: *justification, Language: *lang,
			IVR: objections.IVRSettings{Profile: *profile, KeyObject: *keyObject, KeyDecline: *keyDecline,
				TimeoutMS: int(keyTimeout.Milliseconds()), AfterDialogue: *after, OnError: *onError, TwilioVoices: twilioVoices},
			Kind: objections.OrgKind(*kind), Agencies: *agencies})
		if err != nil {
			return exitFailure, err
		}
		fmt.Fprintf(a.stdout, "org %s set in %s: %q, %s, sector %s, relation term %d months, language %s", o.ID, cfg.Store.Where(), o.Name, o.Kind, o.Sector, o.RelationTermMonths, o.Language)
		if len(o.Agencies) > 0 {
			fmt.Fprintf(a.stdout, ", agencies %s", objections.JoinIDs(o.Agencies))
		}
		fmt.Fprintln(a.stdout)
		if o.Kind == objections.OrgAgency {
			// An agency's name is never spoken: the prompts name the
			// advertiser it calls for.
			return exitOK, nil
		}
		a.printNames(ctx, st.Prompts, prompts.NewLibrary(cat, nil), o)
		if o.IVR.TwilioVoices != "" {
			fmt.Fprintf(a.stdout, "  Twilio voices: %s (<Say> speaks the prompts, name included, in these languages)\n", o.IVR.TwilioVoices)
		}
		return exitOK, nil
	})
}

// printNames makes sure o's name is spoken in every language (ensureNames)
// and says, per language, what its calls will hear for it.
func (a *App) printNames(ctx context.Context, st promptStore, lib *prompts.Library, o objections.Org) {
	if err := loadRecordings(ctx, st, lib); err != nil {
		fmt.Fprintf(a.stdout, "  name audio: not checked (%s): verzet serve synthesises it when it can\n", objections.ErrorMessage(err))
		return
	}
	for _, s := range ensureNames(ctx, st, lib, o, "cli") {
		switch {
		case s.Note != "":
			fmt.Fprintf(a.stdout, "  name in %s: %s\n", s.Lang, s.Note)
		default:
			fmt.Fprintf(a.stdout, "  name in %s: %s audio says %q\n", s.Lang, s.Source, s.Text)
		}
	}
}

func (a *App) verifyCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain of the event log; exit 1 naming the first broken link",
		Long: `Walks the event log from the first event and checks each link of its hash chain: evidence
edited behind verzet's back breaks it. Changes nothing.

Exit status: 0 intact, 1 broken (the first broken link is named), 2 error.`,
		Example: "  verzet verify --data-dir /srv/verzet",
		GroupID: groupRegister,
	}
	b := a.storeBinding(cmd, &cfg)
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "verify takes no arguments")
		}
		s, err := openStore(ctx, cfg.Store, existingStore)
		if err != nil {
			return exitFailure, err
		}
		defer s.Close()
		return a.verifyChain(ctx, s.Register, "")
	})
}
