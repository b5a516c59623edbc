# LLAMA for LLVM - top-level entry points. A fresh Debian 12 machine needs only:
#   make demo    install what is missing, build, run the demo pipeline
#   make check   install what is missing, build, run the whole lit suite
# Everything lands in build/ (build/lib, build/bin).

BUILD       ?= build
BUILD_TYPE  ?= Release
CC_LLVM     ?= clang-19
CXX_LLVM    ?= clang++-19
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure build check check-under-load demo bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_C_COMPILER=$(CC_LLVM) -DCMAKE_CXX_COMPILER=$(CXX_LLVM)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

check: build
	cmake --build $(BUILD) --target check-llama

# The suite on a busy machine (docs/testing.md): as many CPU hogs as cores
# run beside it (LOAD_HOGS to change), stopped however the suite ends.
LOAD_HOGS ?= $(JOBS)
check-under-load: build
	@scripts/with-load.sh $(LOAD_HOGS) cmake --build $(BUILD) --target check-llama

demo: build
	bench/demo.sh $(BUILD)

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
