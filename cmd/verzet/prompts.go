package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// loadCatalog loads the embedded catalogue and the override folder, if any.
// A missing prompt in an override is an error here, at start-up, never
// mid-call.
func loadCatalog(cfg PromptsConfig) (*prompts.Catalog, error) {
	if cfg.Dir == "" {
		return prompts.Load(nil)
	}
	st, err := os.Stat(cfg.Dir)
	if err != nil || !st.IsDir() {
		return nil, objections.Invalid("VERZET_PROMPTS_DIR", cfg.Dir, "is not a folder")
	}
	c, err := prompts.Load(os.DirFS(cfg.Dir))
	if err != nil {
		return nil, objections.Invalid("VERZET_PROMPTS_DIR", cfg.Dir, "%v", err)
	}
	return c, nil
}

func (a *App) promptsCmd() *cobra.Command {
	return group("prompts", "List the prompt catalogue; record prompts; install the audio for Asterisk",
		`The prompt catalogue holds what callers hear: per prompt and language a versioned text and
its audio. VERZET_PROMPTS_DIR overrides texts and audio. Recordings made with 'prompts record'
(and organisations' names, synthesised by 'orgs set') are kept in the store and replace one
prompt for one org or for all; the rest come from the catalogue.`,
		groupTelephony, a.promptsListCmd(), a.promptsRecordCmd(), a.promptsInstallCmd())
}

// promptLibrary opens the store and returns the catalogue with the
// store's recordings, and the store. With optional, a store that cannot be
// opened (none set up on an Asterisk node) leaves the catalogue alone,
// said on stderr, and a nil store.
func (a *App) promptLibrary(ctx context.Context, cfg *Config, optional bool) (*prompts.Library, *stores, error) {
	cat, err := loadCatalog(cfg.Prompts)
	if err != nil {
		return nil, nil, err
	}
	lib := prompts.NewLibrary(cat, nil)
	st, err := openStore(ctx, cfg.Store, existingStore)
	if err == nil {
		err = loadRecordings(ctx, st.Prompts, lib)
		if err != nil {
			st.Close()
			st = nil
		}
	}
	if err != nil {
		if !optional {
			return nil, nil, err
		}
		fmt.Fprintf(a.stderr, "verzet: the store's recordings and names are left out: %s\n", objections.ErrorMessage(err))
		return lib, nil, nil
	}
	return lib, st, nil
}

// orgFor returns the prompt variables of org id ("" for every org).
func orgFor(ctx context.Context, st objections.Store, id string) (objections.Org, prompts.Vars, error) {
	if id == "" {
		return objections.Org{}, prompts.Vars{}, nil
	}
	reg := objections.NewRegister(st, objections.Numbers{}, nil)
	o, err := reg.KnownOrg(ctx, "org", id)
	if err != nil {
		return o, prompts.Vars{}, err
	}
	return o, orgVars(o), nil
}

func (a *App) promptsListCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the prompts: where their audio comes from, version, length, hash and text",
		Long: `Lists, per prompt and language, what calls hear: the source of the audio (catalogue,
synthetic or recorded), the recording's number in the store (REV), the version, the length,
the hash and the words. With --org, what that organisation's calls hear: its own recordings,
its name, its keys; without, what every organisation hears. The row "org" is the {org}
placeholder: the organisation's name, or the generic wording. Changes nothing.`,
		Example: "  verzet prompts list\n  verzet prompts list --org acme",
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.Prompts)
	org := cmd.Flags().String("org", "", "list what this org's calls hear")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "prompts list takes flags only")
		}
		lib, st, err := a.promptLibrary(ctx, &cfg, *org == "")
		if err != nil {
			return exitFailure, err
		}
		var vars prompts.Vars
		if st != nil {
			defer st.Close()
			if _, vars, err = orgFor(ctx, st.Register, *org); err != nil {
				return exitFailure, err
			}
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLANG\tSOURCE\tREV\tVERSION\tSECONDS\tHASH\tTEXT")
		for _, e := range lib.Entries(vars) {
			rev := "-"
			if e.Revision > 0 {
				rev = fmt.Sprintf("r%d", e.Revision)
			}
			text := e.Text
			if e.Unused != "" {
				text += "  (not played: " + e.Unused + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\n", e.ID, e.Lang, e.Source, rev, e.Version, float64(e.DurationMS)/1000, e.Hash[:16], text)
		}
		return exitOK, tw.Flush()
	})
}

func (a *App) promptsRecordCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "record ID --lang LANG [--org ORG] FILE",
		Short: "Store a recording that replaces one prompt (or an org's name) for one org or for all",
		Long: `Reads FILE, a WAV recording (8 to 48 kHz, mono or stereo, 16- or 24-bit PCM) or an MP3 file
(through the decoder of github.com/gopxl/beep), converts it to
the 8 kHz mono 16-bit audio Asterisk plays (Twilio gets the same), trims the silence before and
after it, refuses it when it is nearly silent, too short or too long, brings its level to the
catalogue's, and stores it as the next version of prompt ID in LANG, with its content hash.
Every instance plays it from the next call on; every other prompt stays as it was.

ID is a prompt (offer, confirm, goodbye, invalid, repeat, sorry) or "org" for the {org}
placeholder: with --org the organisation's name as spoken (it replaces the synthesised name),
without it the generic wording for every org. A recording is one take of the whole prompt:
for one org (--org) it says the org's display name and keys as the text shows; for every org
only prompts that do not name the organisation can be recorded. --text gives the wording
recorded, with the placeholders {org}, {key_object} and {key_decline}, when it differs from
the catalogue's. A recording that no longer says the right words (the org renamed, its keys
changed) is not played; 'prompts list --org ORG' shows it.

Asterisk plays the recording from verzet over HTTP with VERZET_ARI_MEDIA_URL set; without it,
run 'verzet prompts install' again after recording.

Admins can do the same over the API: PUT /v1/prompts/ID/LANG?org=ORG with the file as the body.`,
		Example: `  verzet prompts record offer --lang nl --org acme offer-acme.wav
  verzet prompts record org --lang nl --org acme naam-acme.wav
  verzet prompts record goodbye --lang en goodbye.wav`,
		Args: cobra.ArbitraryArgs,
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.Prompts)
	lang := cmd.Flags().String("lang", "", "language of the recording (required), e.g. nl")
	org := cmd.Flags().String("org", "", "the org the recording is for (default: every org)")
	text := cmd.Flags().String("text", "", "the wording recorded, with placeholders (default: the catalogue's text)")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) != 2 {
			return exitFailure, objections.Invalid("arguments", strings.Join(args, " "), "prompts record takes a prompt ID and a FILE")
		}
		if *lang == "" {
			return exitFailure, objections.Invalid("lang", "", "is required, e.g. --lang nl")
		}
		id, file := prompts.ID(args[0]), args[1]
		raw, err := os.ReadFile(file)
		if err != nil {
			return exitFailure, objections.Invalid("FILE", file, "cannot be read: %v", err)
		}
		lib, st, err := a.promptLibrary(ctx, &cfg, false)
		if err != nil {
			return exitFailure, err
		}
		defer st.Close()
		o, _, err := orgFor(ctx, st.Register, *org)
		if err != nil {
			return exitFailure, err
		}
		r, format, level, err := recordPrompt(ctx, st.Prompts, lib, o, id, *lang, *text, raw, "FILE", file, "cli")
		if err != nil {
			return exitFailure, err
		}
		scope := "every org"
		if o.ID != "" {
			scope = "org " + o.ID
		}
		fmt.Fprintf(a.stdout, "recorded %s in %s for %s: r%d, version %s, hash %s\n", r.ID, r.Lang, scope, r.Revision, r.Version(), r.Hash)
		fmt.Fprintf(a.stdout, "  from %s: %.1f s after trimming %.1f s before and %.1f s after; peak was %.1f dBFS, gain %+.1f dB; 8 kHz mono 16-bit\n",
			format, float64(level.DurationMS)/1000, float64(level.TrimmedMS[0])/1000, float64(level.TrimmedMS[1])/1000, level.PeakDBFS, level.GainDB)
		if level.Clipped {
			fmt.Fprintln(a.stdout, "  warning: the recording was made too loud and clips; record it again at a lower level")
		}
		fmt.Fprintf(a.stdout, "  says: %s\n", r.Text)
		return exitOK, nil
	})
}

func (a *App) promptsInstallCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "install --asterisk-sounds DIR",
		Short: "Install the prompts' audio for Asterisk under DIR/verzet/",
		Long: `Writes the audio of every prompt into Asterisk's sounds folder, under verzet/{lang}/, and
the store's recordings and organisations' names under verzet/store/, for Asterisk to play
without VERZET_ARI_MEDIA_URL. Run it again after 'orgs set' or 'prompts record'.`,
		Example: "  verzet prompts install --asterisk-sounds /var/lib/asterisk/sounds",
	}
	b := a.storeBinding(cmd, &cfg).flags(&cfg.Prompts)
	dir := cmd.Flags().String("asterisk-sounds", "", "Asterisk's sounds folder (e.g. /var/lib/asterisk/sounds); files go to verzet/ below it")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "prompts install takes flags only")
		}
		if *dir == "" {
			return exitFailure, objections.Invalid("asterisk-sounds", "", "is required")
		}
		lib, st, err := a.promptLibrary(ctx, &cfg, true)
		if err != nil {
			return exitFailure, err
		}
		if st != nil {
			st.Close()
		}
		if err := lib.Install(*dir); err != nil {
			return exitFailure, objections.Invalid("asterisk-sounds", *dir, "%v", err)
		}
		cat := lib.Catalog()
		fmt.Fprintf(a.stdout, "installed %d prompts in %d languages and %d sounds in all under %s/verzet/\n",
			len(cat.All()), len(cat.Languages()), len(lib.Sounds()), *dir)
		return exitOK, nil
	})
}
