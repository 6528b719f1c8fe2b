# bnlab: two commands do all the set-up on a fresh Debian machine.
#   make experiments   run every spec in Experiments/ and write Results/
#   make test          build and run the tests
# Both install OpenBLAS, zlib and pkg-config with apt-get when they are missing
# and this runs as root; otherwise they print the command to run.
# OPENBLAS_CORETYPE=<core> make experiments forces OpenBLAS's kernel set: the numbers depend on it, and
# forcing the openblas_core of Results/<spec>-provenance.csv reproduces them on another x86-64 CPU (README).

SWIFT      ?= swift
JOBS       ?=
QUICK      ?=
SPECS      ?= $(sort $(wildcard Experiments/*.spec))
CROSSCHECK_SPEC ?= Experiments/small-batch-collapse.spec
BNLAB      := .build/release/bnlab
APT_PKGS   := libopenblas-dev zlib1g-dev pkg-config

.PHONY: all deps build test experiments bench bench-torch crosscheck replay render loc clean

all: build

# deps: make sure `pkg-config openblas zlib` resolves (libopenblas-dev, zlib1g-dev + pkg-config).
deps:
	@if pkg-config --exists openblas zlib 2>/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
	  echo "bnlab: installing $(APT_PKGS) with apt-get"; \
	  (apt-get install -y $(APT_PKGS) || (apt-get update && apt-get install -y $(APT_PKGS))) >/dev/null \
	    || { echo "bnlab: apt-get install -y $(APT_PKGS) failed" >&2; exit 1; }; \
	else \
	  echo "bnlab: OpenBLAS or zlib is missing. Run:  sudo apt-get install -y $(APT_PKGS)" >&2; exit 1; \
	fi

build: deps
	$(SWIFT) build -c release --product bnlab

test: deps
	$(SWIFT) build -c release --product bnlab
	BNLAB_BINARY=$(CURDIR)/$(BNLAB) $(SWIFT) test --disable-swift-testing

# QUICK=1: a reduced grid of every spec, written to .build/results-quick (Results/ is left alone).
# The OpenBLAS kernel set of `make experiments`: Results/ were made with OpenBLAS's Haswell kernels
# (AVX2 + FMA, which every x86-64 CPU of the last decade runs), so a fresh clone reproduces them byte for
# byte on any such machine. An OPENBLAS_CORETYPE already in the environment wins (some machines set one
# because other kernels misbehave there); CORETYPE=auto lets OpenBLAS pick for the CPU. Only this target
# sets it: the tests and .ci/run never do. Not x86-64: OpenBLAS picks.
CORETYPE ?= Haswell
EXPERIMENTS_CORETYPE := $(if $(OPENBLAS_CORETYPE),$(OPENBLAS_CORETYPE),$(if $(filter auto,$(CORETYPE)),,$(if $(filter x86_64,$(shell uname -m)),$(CORETYPE))))

experiments: build
	$(if $(EXPERIMENTS_CORETYPE),OPENBLAS_CORETYPE=$(EXPERIMENTS_CORETYPE)) $(BNLAB) run $(SPECS) $(if $(QUICK),--quick --out .build/results-quick,--out Results) $(if $(JOBS),--jobs $(JOBS))

bench: build
	$(BNLAB) bench

# bench-torch: bnlab and PyTorch side by side, ROUNDS alternating rounds (medians over rounds; needs torch)
ROUNDS ?= 3
bench-torch: build
	python3 Benchmarks/pytorch_reference.py bench --bnlab $(BNLAB) --rounds $(ROUNDS)

# crosscheck: CROSSCHECK_SPEC's grid trained in PyTorch on the data bnlab exports, compared with bnlab's table in
# Results/ (QUICK=1: the quick grid, against .build/results-quick); writes .build/crosscheck/. Needs torch and numpy.
crosscheck: build
	python3 Benchmarks/pytorch_reference.py crosscheck --bnlab $(BNLAB) $(CROSSCHECK_SPEC) $(if $(QUICK),--quick) $(if $(JOBS),--jobs $(JOBS))

# replay: NEEDS torch, safetensors and numpy (pip install torch safetensors numpy). The flagship (momentum 0.1, no
# dropout, seed 0) at batch 1, 4, 32, 128 and the dropout-gap MLP at dropout 0 and 0.2, each exported with
# `bnlab export-training` to REPLAY_DIR and trained again in PyTorch on the same batches, dropout masks and initial
# weights (Benchmarks/pytorch_reference.py replay); writes the table to Benchmarks/REPLAY.md.
REPLAY_DIR ?= .build/replay
replay: build
	@python3 -c "import torch, safetensors, numpy" 2>/dev/null || \
	  { echo "bnlab: make replay needs torch, safetensors and numpy: pip install torch safetensors numpy" >&2; exit 1; }
	rm -rf $(REPLAY_DIR)
	for b in 1 4 32 128; do $(BNLAB) export-training Experiments/small-batch-collapse.spec \
	  --cell "batch_size=$$b seed=0" --out $(REPLAY_DIR)/flagship-b$$b || exit 1; done
	for p in 0 0.2; do $(BNLAB) export-training Experiments/dropout-gap.spec \
	  --cell "dropout=$$p mc_samples=1 seed=0" --out $(REPLAY_DIR)/mlp-dropout-$$p || exit 1; done
	python3 Benchmarks/pytorch_reference.py replay --markdown Benchmarks/REPLAY.md \
	  $(foreach b,1 4 32 128,$(REPLAY_DIR)/flagship-b$(b)) $(REPLAY_DIR)/mlp-dropout-0 $(REPLAY_DIR)/mlp-dropout-0.2

# render: every SVG chart in Results/ to PNG beside it (needs rsvg-convert: apt-get install librsvg2-bin)
render:
	@command -v rsvg-convert >/dev/null || { echo "bnlab: apt-get install -y librsvg2-bin" >&2; exit 1; }
	@for f in Results/*.svg; do rsvg-convert -o "$${f%.svg}.png" "$$f" && echo "$${f%.svg}.png"; done

# loc: lines of Swift per module (sources and tests), so growth is visible (like tinygrad's line budget)
loc:
	@for d in Sources/* Tests/*; do [ -d "$$d" ] || continue; \
	  n=$$(find "$$d" -name '*.swift' -print0 | xargs -0 cat 2>/dev/null | wc -l); \
	  [ "$$n" -gt 0 ] && printf '%-28s %6d\n' "$$d" "$$n"; done; \
	printf '%-28s %6d\n' "Sources total" "$$(find Sources -name '*.swift' -print0 | xargs -0 cat | wc -l)"; \
	printf '%-28s %6d\n' "Tests total" "$$(find Tests -name '*.swift' -print0 | xargs -0 cat | wc -l)"

clean:
	rm -rf .build
