package sqlite

import (
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/storetest"
)

func TestDecisionLog(t *testing.T) {
	storetest.RunDecisionLog(t, func(t *testing.T) objections.Store { return mustOpen(t, "") })
}
