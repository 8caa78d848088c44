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

# Static checks, every test, then the cross-architecture checks under qemu-user.
test: deps ort check unit cross-test

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -count=1 ./...

# One release tarball per board in dist/, and dist/SHA256SUMS.
cross: model
	@sh scripts/cross-build.sh

# Every package's tests as arm64 and ARMv7 binaries under qemu-user, the
# release binaries sealing and opening each other's envelopes, the tarballs
# against their profiles, and arm64 inference.
cross-test: cross
	@sh scripts/cross-test.sh
	@sh scripts/qemu-infer-test.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: deps ort build samples model
	@sh scripts/demo.sh

clean:
	rm -rf $(BIN) out
