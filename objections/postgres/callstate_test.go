package postgres

import (
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/storetest"
)

func TestCallStates(t *testing.T) {
	storetest.RunCallStates(t, func(t *testing.T) objections.Store { return openStore(t) })
}
