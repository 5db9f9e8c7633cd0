# verzet — see README.md. Every target is a thin wrapper over scripts/.
.PHONY: build test bench lint run

build:
	go build -o bin/verzet ./cmd/verzet

test:
	./scripts/test

bench:
	./scripts/bench

lint:
	./scripts/lint

run:
	go run ./cmd/verzet serve

# Deployment (deploy/): the container image, and the tests of the deploy files.
.PHONY: image deploy-test
image:
	./scripts/image

deploy-test:
	./scripts/deploy-test
