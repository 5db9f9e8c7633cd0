# verzet — see README.md. Every target is a thin wrapper over scripts/.
.PHONY: build test test-fast bench lint run generate

build:
	go build -o bin/verzet ./cmd/verzet

# Every test, against SQLite, a throwaway PostgreSQL and a headless Chromium.
test:
	./scripts/test

# The inner loop: no PostgreSQL, no Chromium. The tag makes the tests that
# need them skip; make test and CI never set it, so there they must pass.
test-fast:
	go test -tags testfast ./...

bench:
	./scripts/bench

lint:
	./scripts/lint

run:
	go run ./cmd/verzet serve

# Regenerates the README's settings table from cmd/verzet/sections.go.
generate:
	go generate ./cmd/verzet

# Deployment (deploy/): the container image, and the tests of the deploy files.
.PHONY: image deploy-test
image:
	./scripts/image

deploy-test:
	./scripts/deploy-test
