# Common tasks. `make synth` and `make test` work on a fresh machine (see README).
SHELL := /bin/bash
APP   := persona
BIN   := bin/$(APP)
TOOLS := $(CURDIR)/.tools/bin
DEV_STAGE ?= local

# jsii warns on every start that Node 20 is past end of life; we know. Our commands
# silence it themselves; this covers the bench's bare-CDKTF floor and cdktf-cli.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# cdktf-cli would otherwise try to reach HashiCorp's version checkpoint on every run
# (our commands turn it off for the terraform they run).
export CHECKPOINT_DISABLE := 1
export PATH := $(TOOLS):$(PATH)

GO_SOURCES := $(shell find . -name '*.go' -not -path './cdktf.out/*' -not -path './node_modules/*' -not -path './web/node_modules/*' -not -path './.build/*' -not -path './.dev/*' 2>/dev/null) go.mod go.sum

.PHONY: synth test golden bench tools npm terraform dev deploy diff remove outputs secrets-list vet fmt clean

## synth: synthesize every stage (or just $$STAGE when set) into cdktf.out/; no AWS needed
synth: $(BIN)
	@./$(BIN) synth

$(BIN): $(GO_SOURCES)
	go build -o $@ .

## test: install the local stand-ins the tests use, then run every test
test: tools
	go vet ./...
	go test ./...

## golden: accept changed resource addresses into backend/testdata/golden/ and review the diff;
## FORGET=address[,address] stops guarding stateful resources destroyed on purpose
golden:
	go test ./backend -run '^TestGolden' -count=1 -update $(if $(FORGET),-forget=$(FORGET))

## bench: synth timing against a bare-jsii floor, synth with HCL, cold synth, zip sizes; web build cold and unchanged, first-load JS; handler and dev-mode benchmarks; the web app in Chromium against dev (navigation to list, sign-in to list)
bench: $(BIN) npm
	go run ./bench/synth
	go test -run '^$$' -bench 'WebSite/cold' -benchtime 1x ./build/
	go test -run '^$$' -bench 'WebSite/unchanged' -benchtime 20x ./build/
	go test -run '^$$' -bench . -benchtime 20x ./persona/... ./lambdas/...
	go test -run '^$$' -bench GetPersonas -benchtime 2000x ./dev/
	go test -run '^$$' -bench 'HotReload|StartToFirstRequest' -benchtime 10x ./dev/
	go test -run '^$$' -bench 'NavigationToPersonaList|SignInToFirstList' -benchtime 20x ./web/e2e/

## tools: dynalite and the web app's packages (npm), the Lambda emulator (Go), terraform if not on PATH
tools: npm $(TOOLS)/aws-lambda-rie terraform

npm: node_modules/.package-lock.json web/node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
# The site builder (build.Site, web.Site) runs the same install when the lockfile is newer.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

$(TOOLS)/aws-lambda-rie:
	GOBIN=$(TOOLS) go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d

## terraform: use terraform from PATH, or build the pinned v1.5.7 into .tools/bin (about 2 minutes)
terraform:
	@command -v terraform >/dev/null || GOBIN=$(TOOLS) go install github.com/hashicorp/terraform@v1.5.7

## dev: run a stage on this machine with local stand-ins (DEV_STAGE, default local; PORT, default 3000)
dev: $(BIN) tools
	./$(BIN) dev --stage $(DEV_STAGE)$(if $(PORT), --port $(PORT))

## deploy, diff, remove, outputs, secrets-list: stage operations (STAGE=... required, never assumed)
deploy diff remove outputs: $(BIN) npm
	@test -n "$(STAGE)" || { echo "name the stage: make $@ STAGE=dev" >&2; exit 2; }
	./$(BIN) $@ --stage $(STAGE)

secrets-list: $(BIN)
	@test -n "$(STAGE)" || { echo "name the stage: make $@ STAGE=dev" >&2; exit 2; }
	./$(BIN) secrets list --stage $(STAGE)

vet:
	go vet ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf cdktf.out bin .build web/out web/.next
