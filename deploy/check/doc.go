// Package check holds the tests of verzet's deployment files: the compose
// file (loaded with compose-spec's own loader), the Helm chart (rendered
// with helm and decoded strictly into the Kubernetes API types) and the
// systemd unit. It is a module of its own so that the product's go.mod
// carries none of these dependencies; it has no code outside its tests.
//
// Run it with scripts/deploy-test, which also builds and runs the image.
package check
