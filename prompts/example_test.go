package prompts_test

import (
	"fmt"

	"github.com/verzet/verzet/prompts"
)

func ExampleLoad() {
	// A deployment passes os.DirFS(dir) for its VERZET_PROMPTS_DIR; nil
	// means the embedded default catalogue only.
	catalog, err := prompts.Load(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(catalog.Languages())

	offer, err := catalog.Get("nl", prompts.Offer)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Text for a provider that speaks it itself (Twilio <Say>).
	fmt.Println(offer.Render(prompts.Vars{Org: "Voorbeeld Goede Doelen"}))
	// Output:
	// [en nl]
	// Niet meer gebeld worden door Voorbeeld Goede Doelen? Druk op 1. Het is gratis, zonder gegevens, en geldt meteen. Druk anders op 2.
}

func ExampleCatalog_Compose() {
	catalog, err := prompts.Load(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// "voorbeeld" has no name recording here, so the generic wording is
	// played, and the text says so.
	confirm, err := catalog.Compose("nl", prompts.Confirm, prompts.Vars{OrgID: "voorbeeld"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(confirm.Text)
	for _, s := range confirm.Sounds {
		fmt.Println("sound:" + s.Name)
	}
	// Output:
	// Uw bezwaar is vastgelegd en geldt meteen. U wordt niet meer gebeld door deze organisatie. Tot ziens.
	// sound:verzet/nl/confirm-1
	// sound:verzet/nl/org
	// sound:verzet/nl/confirm-2
}
