package main

import (
	"context"
	"fmt"
	"os"
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
	return group("prompts", "List the prompt catalogue; install its audio for Asterisk",
		`The prompt catalogue holds what callers hear: per prompt and language a versioned text and
its audio. VERZET_PROMPTS_DIR overrides texts and audio.`,
		groupTelephony, a.promptsListCmd(), a.promptsInstallCmd())
}

func (a *App) promptsListCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the prompts: id, language, version, length and text",
		Long:    "Lists the prompt catalogue (embedded, with VERZET_PROMPTS_DIR's overrides). Changes nothing.",
		Example: "  verzet prompts list\n  verzet prompts list --org \"Acme Goede Doelen\"",
	}
	b := newBinding(a.env, cmd.Flags()).flags(&cfg.Prompts)
	org := cmd.Flags().String("org", "", "render the texts with this org's display name")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "prompts list takes flags only")
		}
		cat, err := loadCatalog(cfg.Prompts)
		if err != nil {
			return exitFailure, err
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLANG\tVERSION\tSECONDS\tTEXT")
		for _, p := range cat.All() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", p.ID, p.Lang, p.Version, float64(p.DurationMS)/1000, p.Render(prompts.Vars{Org: *org}))
		}
		return exitOK, tw.Flush()
	})
}

func (a *App) promptsInstallCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "install --asterisk-sounds DIR",
		Short: "Install the prompts' audio for Asterisk under DIR/verzet/{lang}/",
		Long: `Writes the audio of every prompt into Asterisk's sounds folder, under verzet/{lang}/, for
Asterisk to play without VERZET_ARI_MEDIA_URL.`,
		Example: "  verzet prompts install --asterisk-sounds /var/lib/asterisk/sounds",
	}
	b := newBinding(a.env, cmd.Flags()).flags(&cfg.Prompts)
	dir := cmd.Flags().String("asterisk-sounds", "", "Asterisk's sounds folder (e.g. /var/lib/asterisk/sounds); files go to verzet/{lang}/ below it")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "prompts install takes flags only")
		}
		if *dir == "" {
			return exitFailure, objections.Invalid("asterisk-sounds", "", "is required")
		}
		cat, err := loadCatalog(cfg.Prompts)
		if err != nil {
			return exitFailure, err
		}
		if err := cat.Install(*dir); err != nil {
			return exitFailure, objections.Invalid("asterisk-sounds", *dir, "%v", err)
		}
		fmt.Fprintf(a.stdout, "installed %d prompts in %d languages under %s/verzet/\n", len(cat.All()), len(cat.Languages()), *dir)
		return exitOK, nil
	})
}
