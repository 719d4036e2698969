#!/bin/sh
# tests/fuzz/ci.sh: the CI fuzzing step.  Builds the libFuzzer targets
# with clang in a build directory of their own (ASan + UBSan +
# -fsanitize=fuzzer) and runs each for FUZZ_RUNS inputs (default 100000)
# from a fixed seed, within FUZZ_SECONDS (default 30) seconds.  The seed
# makes the run repeatable: CI replays what passed before it landed
# (longer, random runs are for `make fuzz-run` by hand).
# Fails on any crash, leak, sanitizer report or hang; the inputs that did
# it stay in $FUZZ_BUILD_DIR/tests/fuzz/crashes/<name>/.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build/fuzz-clang}
[ -x "$src/configure" ] || (cd "$src" && ./autogen.sh)
rm -rf "$build"
mkdir -p "$build"
cd "$build"
"$src/configure" CC=clang --enable-fuzz --enable-werror >configure.log 2>&1 ||
    { tail -n 20 configure.log; exit 1; }
make -j"$(nproc)" fuzz
FUZZ_JOBS_FLAGS="-seed=${FUZZ_SEED:-1} -runs=${FUZZ_RUNS:-100000}" \
    make fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
