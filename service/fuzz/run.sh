#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the protocol fuzzer for a bounded time:  service/fuzz/run.sh SECONDS
# Configures a clang build in build/fuzz (SPC_FUZZ=ON), builds spc_fuzz_proto,
# and fuzzes with the committed seeds; new inputs go to build/fuzz/corpus so
# the committed seed corpus only changes by hand. Crashes land in build/fuzz.
set -euo pipefail
secs=${1:?usage: $0 SECONDS}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build/fuzz
# Tests stay configured (not built): tests/unit/proto pulls in proto.cmake
# even when service/ has no CMakeLists.txt of its own.
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DSPC_FUZZ=ON -DSPC_BUILD_TESTS=ON \
      -DSPC_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target spc_fuzz_proto -j 2
mkdir -p "$build/corpus"
cd "$build"
./fuzz/spc_fuzz_proto -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/" \
    "$build/corpus" "$root/service/fuzz/corpus"
echo "corpus: $(ls "$build/corpus" | wc -l) new inputs in $build/corpus"
