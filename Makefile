# Berth — two commands for a newcomer: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.install-stamp

.PHONY: help run test deps system-deps build typecheck lint unit conformance clean

help:
	@echo "make run   — install, build and start Berth on 127.0.0.1:5000 (data in ./data)"
	@echo "make test  — install everything needed, then run every test and conformance run"

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(NPM_STAMP)

# Debian packages the tests drive: real clients and servers (installed only if absent).
system-deps:
	bash conformance/install-system-deps.sh

build: deps
	npm run --silent build

typecheck: deps
	npm run --silent typecheck

# Style is checked, not argued: typescript-eslint (type-aware) and prettier (eslint.config.mjs, .prettierrc.json).
lint: deps
	npx --no-install eslint .
	npx --no-install prettier --check --log-level warn .

run: build
	BERTH_ADDR=$${BERTH_ADDR:-127.0.0.1:5000} BERTH_DATA=$${BERTH_DATA:-./data} node dist/cli.js serve

unit: deps system-deps
	npx --no-install jest --ci

conformance: build system-deps
	bash conformance/run.sh

test: typecheck lint build unit conformance

# Opt-in, not part of `make test`: commits an S3 blob over 5 GiB (multipart copy); ~20 GiB of disk traffic.
.PHONY: test-s3-large
test-s3-large: deps
	npx --no-install jest --ci --testMatch '**/*.large.ts' --testTimeout 3600000

# Opt-in, not part of `make test`: Berth (open and token mode) side by side with CNCF Distribution 2.8.2
# and 3 on loopback; prints a table and writes conformance/bench/results/latest.md. See conformance/bench/.
.PHONY: bench
bench: build
	bash conformance/bench/run.sh

# Opt-in, not part of `make test`: cost as the registry grows (issue #18), 1k to 100k repositories, 100k
# tags in one, 1M blobs, on SQLite and on a PostgreSQL it starts; writes conformance/bench/results/growth.md.
.PHONY: bench-growth
bench-growth: build
	bash conformance/bench/growth.sh

clean:
	rm -rf dist node_modules
