package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// loadCatalog loads the embedded catalogue and the override folder, if any.
// A missing prompt in an override is an error here, at start-up, never
// mid-call.
func loadCatalog(cfg *Config) (*prompts.Catalog, error) {
	if cfg.PromptsDir == "" {
		return prompts.Load(nil)
	}
	st, err := os.Stat(cfg.PromptsDir)
	if err != nil || !st.IsDir() {
		return nil, objections.Invalid("VERZET_PROMPTS_DIR", cfg.PromptsDir, "is not a folder")
	}
	c, err := prompts.Load(os.DirFS(cfg.PromptsDir))
	if err != nil {
		return nil, objections.Invalid("VERZET_PROMPTS_DIR", cfg.PromptsDir, "%v", err)
	}
	return c, nil
}

func runPrompts(ctx context.Context, a *App, args []string) (int, error) {
	if len(args) == 0 {
		return exitFailure, objections.Invalid("subcommand", "", "must be list or install")
	}
	switch args[0] {
	case "list":
		fs, cfg, validate := a.flags("prompts list")
		org := fs.String("org", "", "render the texts with this org's display name")
		if _, err := parse(fs, args[1:], validate); err != nil {
			return exitFailure, err
		}
		cat, err := loadCatalog(cfg)
		if err != nil {
			return exitFailure, err
		}
		tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLANG\tVERSION\tSECONDS\tTEXT")
		for _, p := range cat.All() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", p.ID, p.Lang, p.Version, float64(p.DurationMS)/1000, p.Render(prompts.Vars{Org: *org}))
		}
		return exitOK, tw.Flush()
	case "install":
		fs, cfg, validate := a.flags("prompts install")
		dir := fs.String("asterisk-sounds", "", "Asterisk's sounds folder (e.g. /var/lib/asterisk/sounds); files go to verzet/{lang}/ below it")
		if _, err := parse(fs, args[1:], validate); err != nil {
			return exitFailure, err
		}
		if *dir == "" {
			return exitFailure, objections.Invalid("asterisk-sounds", "", "is required")
		}
		cat, err := loadCatalog(cfg)
		if err != nil {
			return exitFailure, err
		}
		if err := cat.Install(*dir); err != nil {
			return exitFailure, objections.Invalid("asterisk-sounds", *dir, "%v", err)
		}
		fmt.Fprintf(a.stdout, "installed %d prompts in %d languages under %s/verzet/\n", len(cat.All()), len(cat.Languages()), *dir)
		return exitOK, nil
	}
	return exitFailure, objections.Invalid("subcommand", args[0], "must be list or install")
}
