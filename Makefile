# SPDX-License-Identifier: LGPL-2.1-or-later
# The two commands: `make run` and `make test`. Everything else is optional.
#
#   make deps       install the Debian packages that are missing (idempotent)
#   make run        deps + Release build + splitcached in the foreground
#   make test       deps + build + every test (ctest --output-on-failure)
#   make test-asan  the tests under ASan+UBSan      make test-tsan  under TSan
#   make bench      the headline benchmarks (Release build, about 80 s)
#   make bench-deps memcached for bench/memcached-vs.sh, its daemon off
#   make install    cmake --install (PREFIX=/usr/local)

SHELL := /bin/bash
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
BUILD := build
CMAKE_FLAGS ?=
CTEST_FLAGS ?=
STRESS_SECONDS ?= 10

# Debian packages the build, the tests and the bench need. The service
# tests drive memcached's clients and tools (libmemcached-tools: memccapable,
# memcaslap), pymemcache and nutcracker. No server daemon: memcached, the
# reference server of bench/memcached-vs.sh, comes with `make bench-deps`
# (bench/install-memcached.sh), neither started nor enabled, so that
# 11211 stays free for splitcached. No test needs the memcached binary
# (its recorded replies are files and test expectations).
PACKAGES := cmake make gcc g++ pkg-config clang libclang-rt-14-dev \
	liburcu-dev libjemalloc-dev check libsubunit-dev libxxhash-dev \
	zlib1g-dev liblzma-dev libzstd-dev xz-utils zstd gzip librocksdb-dev \
	gnuplot-nox util-linux python3 \
	libmemcached-tools nutcracker python3-pymemcache liburing-dev

.PHONY: all deps bench-deps build release run test test-asan test-tsan bench install clean

# After a passing run: the stress tests' counts (ctest shows the output of
# failing tests only), so every log says how much each stress test did.
stress_counts = echo "stress counts ($(1)):"; \
	grep -hE '^stress(_items|_views|_index)?: ' $(BUILD)/$(1)/Testing/Temporary/LastTest.log || true

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: installing:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing

bench-deps: deps
	bench/install-memcached.sh

$(BUILD)/release/Makefile: | deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release -DSPC_BUILD_TESTS=OFF \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

release: deps $(BUILD)/release/Makefile
	cmake --build $(BUILD)/release -j $(JOBS)

build: deps
	cmake -S . -B $(BUILD)/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPC_WERROR=$${CI:+ON} \
	  -DSPC_STRESS_SECONDS=$(STRESS_SECONDS) $(CMAKE_FLAGS)
	cmake --build $(BUILD)/test -j $(JOBS)

# splitcached in the foreground on memcached's port (index pool) and the
# next one (view pool); when either is taken (say a memcached daemon runs
# on 11211) it listens on free ports instead and prints them.
RUN_FLAGS ?=
run: release
	@if [ -x $(BUILD)/release/service/splitcached ]; then \
	  flags="$(RUN_FLAGS)"; \
	  if [ -z "$$flags" ] && { (exec 3<>/dev/tcp/127.0.0.1/11211) 2>/dev/null || \
	       (exec 3<>/dev/tcp/127.0.0.1/11212) 2>/dev/null; }; then \
	    echo "run: 11211 or 11212 is taken: listening on free ports instead"; \
	    flags="--index-listen 127.0.0.1:0 --view-listen 127.0.0.1:0"; \
	  fi; \
	  exec $(BUILD)/release/service/splitcached $$flags; \
	else \
	  $(BUILD)/release/service/splitcache-mem; \
	  if [ -x $(BUILD)/release/bench/splitcache-bench ]; then \
	    $(BUILD)/release/bench/splitcache-bench view-during-index --duration 5 \
	      --budget 128M --systems splitcache,mutex-lru; \
	  fi; \
	fi

test: build
	cd $(BUILD)/test && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)
	@$(call stress_counts,test)

test-asan: deps
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=address,undefined \
	  -DSPC_BUILD_BENCH=OFF -DSPC_WERROR=$${CI:+ON} -DSPC_STRESS_SECONDS=$(STRESS_SECONDS) $(CMAKE_FLAGS)
	cmake --build $(BUILD)/asan -j $(JOBS)
	cd $(BUILD)/asan && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)
	@$(call stress_counts,asan)

test-tsan: deps
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANITIZE=thread \
	  -DSPC_BUILD_BENCH=OFF -DSPC_WERROR=$${CI:+ON} -DSPC_STRESS_SECONDS=$(STRESS_SECONDS) $(CMAKE_FLAGS)
	cmake --build $(BUILD)/tsan -j $(JOBS)
	cd $(BUILD)/tsan && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)
	@$(call stress_counts,tsan)

bench: release
	$(BUILD)/release/bench/splitcache-bench view-during-index --duration 2 --budget 128M \
	  --json $(BUILD)/bench-view-during-index.json
	$(BUILD)/release/bench/splitcache-bench read-scaling --duration 1 \
	  --json $(BUILD)/bench-read-scaling.json

install: release
	cmake --install $(BUILD)/release --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
