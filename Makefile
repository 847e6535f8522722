# SPDX-License-Identifier: Apache-2.0
# gale: the two commands are `make run` (the demo) and `make test` (every default test suite). Both bootstrap a
# fresh Debian 12 machine first (packages, hugepages); see README.md. The targets wrap meson:
#   build/      gcc, -Werror: everything; runs unit, integration, interop, fault and fuzz (seed replay) suites
#   build-san/  clang, -Werror, ASan+UBSan, libFuzzer: runs the unit suite and short bounded fuzz runs
.PHONY: all bootstrap build build-san run test bench fuzz clean

MESON_FLAGS ?= -Dwerror=true
FUZZ_SECONDS ?= 300

all: build

bootstrap:
	@scripts/bootstrap

build/build.ninja:
	meson setup build $(MESON_FLAGS)

build-san/build.ninja:
	CC=clang meson setup build-san $(MESON_FLAGS) -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true

build: bootstrap build/build.ninja
	ninja -C build

build-san: bootstrap build-san/build.ninja
	ninja -C build-san

run: build
	scripts/run

test: build build-san
	scripts/test

bench: build
	perf/run

fuzz: build-san
	GALE_FUZZ_SECONDS=$(FUZZ_SECONDS) meson test -C build-san --suite fuzz --print-errorlogs

clean:
	rm -rf build build-san
