# Two commands on a fresh Debian machine with Go: `make demo` and `make test`.
# Each installs what it needs first (Debian packages for the real peers and the
# cross tools, the ONNX Runtime libraries from npm); Go tools are tool lines in
# go.mod, run with `go tool`.

GO       ?= go
BIN      := bin
EDGE     := $(BIN)/edge
MODEL    := models/resnet152-int8.onnx
MODEL32  := models/resnet152-fp32.onnx
# Activations are calibrated on real prints where the shared data is present,
# else on synthetic ones.
CALIB    := $(wildcard ../shared/data/fingerprints/multi-impression)
DEMO     := out/demo
# Go's scratch folder, test binaries included, lives in the clone: a test
# binary looks for the ONNX Runtime library beside and above itself, so under
# /tmp it would take a third_party/ an earlier run or another checkout left
# there before this clone's own.
GOTMP    := $(CURDIR)/.cache/go-tmp

.PHONY: all build deps ort model samples test check unit cross cross-test demo bench fuzz clean

all: build

deps:
	@sh scripts/install-deps.sh

ort: deps
	@sh scripts/fetch-ort.sh

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(EDGE) ./cmd/edge

# Both models: the fp32 one is what the int8 one is checked against.
$(MODEL32): | build ort
	@mkdir -p models
	$(EDGE) model build --fp32 --out $@

$(MODEL): $(MODEL32)
	$(EDGE) model quantize --in $(MODEL32) --out $@ $(if $(CALIB),--calib $(CALIB))

model: $(MODEL)

samples:
	@sh scripts/fetch-samples.sh >/dev/null

# Static checks, the cross-architecture checks under qemu-user (tarballs
# included), then every Go test; the run ends with go test's closing lines and
# the list of skipped tests with their reasons. Under CI=true a test that
# skipped although what it needs is present fails the run (internal/testenv).
test: deps ort check cross-test unit
test unit check: export GOTMPDIR := $(GOTMP)

check:
	@mkdir -p $(GOTMP)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@# Without cgo (a hub built where there is no C compiler) everything must still build.
	CGO_ENABLED=0 $(GO) build -o /dev/null ./...

unit:
	@mkdir -p $(GOTMP)
	$(GO) run ./internal/testenv/testreport -go $(GO) -count=1 ./...

# One release tarball per board in dist/, and dist/SHA256SUMS.
cross: model
	@sh scripts/cross-build.sh

# Every package's tests as arm64 and ARMv7 binaries under qemu-user, the
# release binaries sealing and opening each other's envelopes, the tarballs
# against their profiles, and arm64 inference.
cross-test: cross
	@sh scripts/cross-test.sh
	@sh scripts/qemu-infer-test.sh

# Every fuzz target for FUZZTIME each, one after another (make fuzz FUZZTIME=10m).
FUZZTIME ?= 10s
fuzz:
	@mkdir -p $(GOTMP)
	@GO=$(GO) FUZZTIME=$(FUZZTIME) GOTMPDIR=$(GOTMP) sh scripts/fuzz.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The pipeline on each sample, then the whole appliance (edge run with the
# sensor simulator, a hub on loopback, Orthanc, storescu); DEMO_EXIT=1 ends it
# at the end instead of leaving the status page up.
demo: deps ort build samples model
	@sh scripts/demo.sh
	@sh scripts/demo-appliance.sh

clean:
	rm -rf $(BIN) out
