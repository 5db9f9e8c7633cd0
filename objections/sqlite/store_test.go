package sqlite

import (
	"testing"

	"github.com/verzet/verzet/objections/storetest"
)

// TestConformance runs the suite of every capability.
func TestConformance(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) storetest.Store { return mustOpen(t, "") })
}
