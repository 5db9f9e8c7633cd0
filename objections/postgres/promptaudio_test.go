package postgres

import (
	"testing"

	"github.com/verzet/verzet/objections/storetest"
)

// TestPromptAudio runs the prompt audio suite.
func TestPromptAudio(t *testing.T) {
	storetest.RunPromptAudio(t, func(t *testing.T) storetest.PromptStore { return openStore(t) })
}
