package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/verzet/verzet/objections"
)

func runMigrate(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("migrate")
	if _, err := parse(fs, args, validate); err != nil {
		return exitFailure, err
	}
	s, err := openStores(ctx, cfg, true)
	if err != nil {
		return exitFailure, err
	}
	defer s.Close()
	fmt.Fprintf(a.stdout, "migrated: %s store is up to date\n", cfg.StoreName())
	return exitOK, nil
}

func runCheck(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("check")
	org := fs.String("org", "", "organisation (default VERZET_DEFAULT_ORG)")
	person := fs.String("person", "", "person/contact id, when the dialer knows it")
	asJSON := fs.Bool("json", false, "print the decision as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet check NUMBER [--org ORG] [--person ID] [--json]\n\nExit 0: callable; 1: not callable; 2: error.")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 1 {
		return exitFailure, objections.Invalid("NUMBER", strings.Join(pos, " "), "check takes exactly one number")
	}
	o, err := cfg.org(*org)
	if err != nil {
		return exitFailure, err
	}
	reg, done, err := a.register(ctx, cfg, false)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	d, err := reg.Decide(ctx, o, pos[0], *person, time.Time{})
	if err != nil {
		return exitFailure, err
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return exitFailure, err
		}
	} else {
		fmt.Fprintln(a.stdout, describeDecision(d))
	}
	if !d.Callable {
		return exitNo, nil
	}
	return exitOK, nil
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

func runObjections(ctx context.Context, a *App, args []string) (int, error) {
	if len(args) == 0 {
		return exitFailure, objections.Invalid("subcommand", "", "must be one of list, show, record, export")
	}
	switch args[0] {
	case "list", "export":
		return objectionsList(ctx, a, args[0], args[1:])
	case "show":
		return objectionsShow(ctx, a, args[1:])
	case "record":
		return objectionsRecord(ctx, a, args[1:])
	}
	return exitFailure, objections.Invalid("subcommand", args[0], "must be one of list, show, record, export")
}

type listFlags struct {
	org, number, since, until, campaign, source, status *string
	limit                                               *int
}

func bindListFlags(fs interface {
	String(name, value, usage string) *string
	Int(name string, value int, usage string) *int
}, withStatus bool) listFlags {
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

func objectionsList(ctx context.Context, a *App, sub string, args []string) (int, error) {
	fs, cfg, validate := a.flags("objections " + sub)
	lf := bindListFlags(fs, true)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := parse(fs, args, validate); err != nil {
		return exitFailure, err
	}
	reg, done, err := a.register(ctx, cfg, false)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	f, err := lf.objectionFilter(reg)
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
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(items)
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
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func objectionsShow(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("objections show")
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 1 {
		return exitFailure, objections.Invalid("ID", strings.Join(pos, " "), "show takes exactly one objection id")
	}
	reg, done, err := a.register(ctx, cfg, false)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	o, err := reg.Store().Objection(ctx, pos[0])
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
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return exitOK, enc.Encode(out)
}

func objectionsRecord(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("objections record")
	org := fs.String("org", "", "organisation (default VERZET_DEFAULT_ORG)")
	source := fs.String("source", "agent", "how the objection came in: agent, callback-line, email, letter, web, api, import, ivr-twilio, ivr-ari")
	campaign := fs.String("campaign", "", "campaign reference")
	person := fs.String("person", "", "person/contact id")
	lead := fs.String("lead", "", "dialer lead reference")
	agent := fs.String("agent", "", "agent reference")
	note := fs.String("note", "", "free text, e.g. what the person said")
	actor := fs.String("actor", "cli", "who records it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet objections record NUMBER --org ORG --source agent [--campaign C]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 1 {
		return exitFailure, objections.Invalid("NUMBER", strings.Join(pos, " "), "record takes exactly one number")
	}
	o, err := cfg.org(*org)
	if err != nil {
		return exitFailure, err
	}
	reg, done, err := a.register(ctx, cfg, false)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	rec, created, err := reg.Record(ctx, objections.Objection{Org: o, RawNumber: pos[0], Source: objections.Source(*source),
		CampaignRef: *campaign, PersonID: *person, LeadRef: *lead, AgentRef: *agent, Note: *note, Actor: *actor})
	if err != nil {
		return exitFailure, err
	}
	verb := "recorded"
	if !created {
		verb = "already recorded"
	}
	fmt.Fprintf(a.stdout, "%s objection %s: %s may no longer call %s (since %s)\n", verb, rec.ID, rec.Org, rec.Number,
		rec.ReceivedAt.In(objections.Amsterdam()).Format("2006-01-02 15:04:05 MST"))
	return exitOK, nil
}

func runOffers(ctx context.Context, a *App, args []string) (int, error) {
	if len(args) == 0 || args[0] != "list" {
		return exitFailure, objections.Invalid("subcommand", strings.Join(args, " "), "must be list")
	}
	fs, cfg, validate := a.flags("offers list")
	lf := bindListFlags(fs, false)
	outcome := fs.String("outcome", "", "only this outcome (objected, declined, no_input, invalid_input, hangup_during_prompt, error)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := parse(fs, args[1:], validate); err != nil {
		return exitFailure, err
	}
	reg, done, err := a.register(ctx, cfg, false)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	of, err := lf.objectionFilter(reg)
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
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return exitOK, enc.Encode(items)
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
}

func runOrgs(ctx context.Context, a *App, args []string) (int, error) {
	if len(args) == 0 {
		return exitFailure, objections.Invalid("subcommand", "", "must be set or list")
	}
	switch args[0] {
	case "set":
		return orgsSet(ctx, a, args[1:])
	case "list":
		fs, cfg, validate := a.flags("orgs list")
		asJSON := fs.Bool("json", false, "print a JSON array")
		if _, err := parse(fs, args[1:], validate); err != nil {
			return exitFailure, err
		}
		reg, done, err := a.register(ctx, cfg, false)
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
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return exitOK, enc.Encode(orgs)
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSECTOR\tTERM\tLANG\tNOTE")
		for _, o := range orgs {
			note := ""
			if o.AutoCreated {
				note = "auto-created during a call: review with 'verzet orgs set'"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%dm\t%s\t%s\n", o.ID, o.Name, o.Sector, o.RelationTermMonths, o.Language, note)
		}
		tw.Flush()
		return exitOK, nil
	}
	return exitFailure, objections.Invalid("subcommand", args[0], "must be set or list")
}

func orgsSet(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("orgs set")
	name := fs.String("name", "", "display name, spoken in prompts (required, at most 128 characters)")
	sector := fs.String("sector", "other", "charity, lottery, press or other (REQ-5: only the first three keep the customer-relation basis after 2026-07-01)")
	term := fs.String("term", "", "customer-relation term: months (36), 36m or 3y (default VERZET_RELATION_TERM)")
	justification := fs.String("justification", "", "reference to the written justification a term over 36 months needs")
	lang := fs.String("lang", "nl", "default prompt language")
	profile := fs.String("ivr-profile", "", "dialogue rules: nl (offer, key, confirmation) or us (opt-out key records and ends the call at once)")
	keyObject := fs.String("key-object", "", "key that objects (default 1)")
	keyDecline := fs.String("key-decline", "", "key that declines (default 2)")
	keyTimeout := fs.Duration("key-timeout", 0, "how long to wait for a key after the offer (default 6s)")
	after := fs.String("after", "", "after the dialogue: hangup (default) or continue in the Asterisk dialplan")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: verzet orgs set ID --name NAME --sector SECTOR [--term 36] [--lang nl]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, validate)
	if err != nil {
		return exitFailure, err
	}
	if len(pos) != 1 {
		return exitFailure, objections.Invalid("ID", strings.Join(pos, " "), "orgs set takes exactly one org id")
	}
	months := cfg.RelationTerm
	if *term != "" {
		if months, err = parseTerm(*term); err != nil {
			return exitFailure, objections.Invalid("term", *term, "must be a number of months (1–240) such as 36, 36m or 3y")
		}
	}
	reg, done, err := a.register(ctx, cfg, false)
	if err != nil {
		return exitFailure, err
	}
	defer done()
	o, err := reg.SetOrg(ctx, objections.Org{ID: pos[0], Name: *name, Sector: objections.Sector(*sector),
		RelationTermMonths: months, TermJustification: *justification, Language: *lang,
		IVR: objections.IVRSettings{Profile: *profile, KeyObject: *keyObject, KeyDecline: *keyDecline,
			TimeoutMS: int(keyTimeout.Milliseconds()), AfterDialogue: *after}})
	if err != nil {
		return exitFailure, err
	}
	fmt.Fprintf(a.stdout, "org %s set: %q, sector %s, relation term %d months, language %s\n", o.ID, o.Name, o.Sector, o.RelationTermMonths, o.Language)
	return exitOK, nil
}

func runVerify(ctx context.Context, a *App, args []string) (int, error) {
	fs, cfg, validate := a.flags("verify")
	if _, err := parse(fs, args, validate); err != nil {
		return exitFailure, err
	}
	s, err := openStores(ctx, cfg, false)
	if err != nil {
		return exitFailure, err
	}
	defer s.Close()
	n, err := objections.VerifyChain(ctx, s.Register)
	var ce *objections.ChainError
	if asChainError(err, &ce) {
		fmt.Fprintf(a.stdout, "BROKEN: %s (the %d events before it are intact)\n", ce.Error(), n)
		return exitNo, nil
	}
	if err != nil {
		return exitFailure, err
	}
	fmt.Fprintf(a.stdout, "chain intact: %d events verified\n", n)
	return exitOK, nil
}
