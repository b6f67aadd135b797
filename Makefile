# Thin wrapper over CMake. The README's two commands: `make run` and `make test`, from the
# checkout (`make -C PATH test` or `make -f PATH/Makefile test` work from anywhere else).
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
BUILD ?= $(ROOT)/build
ASAN_BUILD ?= $(ROOT)/build-asan
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:8080

.PHONY: all deps build run test test-asan bench clean format format-check fuzz package

all: build

deps:
	@$(ROOT)/third_party/install-deps.sh

build: deps
	@cmake -S $(ROOT) -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/vmscope serve --listen $(LISTEN)

test: build
	@$(ROOT)/third_party/install-deps.sh --e2e --heaps --monitoring
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps
	@cmake -S $(ROOT) -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DVMSCOPE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j$(JOBS)

bench: build
	@$(ROOT)/third_party/install-deps.sh --bench
	cd $(ROOT) && bench/run-all.sh $(BUILD)

# A .deb (CPack) in the build directory: /usr/bin/vmscope, the dashboard in /usr/share/vmscope/web,
# man pages, the systemd unit, docs, bash completion (docs/packaging.md).
package: build
	cd $(BUILD) && cpack -G DEB

# Every libFuzzer harness in tests/fuzz for FUZZ_SECONDS each (CI: 30), seeded from the fixtures.
FUZZ_SECONDS ?= 60
fuzz:
	@$(ROOT)/third_party/install-deps.sh --fuzz
	$(ROOT)/tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

format:
	cd $(ROOT) && clang-format -i $$(git ls-files '*.c' '*.h')

# What CI runs (once the tree has been formatted): fails, naming each place, when a tracked C
# file differs from what .clang-format makes of it.
format-check:
	cd $(ROOT) && clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
