//go:build testfast

package main

// testFast is `make test-fast` (go test -tags testfast): browser tests skip.
// ./scripts/test and CI never set the tag: there they fail without Chromium.
const testFast = true
