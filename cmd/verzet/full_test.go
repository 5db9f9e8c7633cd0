//go:build !testfast

package main

// testFast is off: a browser test fails without Chromium.
const testFast = false
