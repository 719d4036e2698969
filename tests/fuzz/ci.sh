#!/bin/sh
# tests/fuzz/ci.sh: the CI fuzzing step.  Builds the libFuzzer targets
# with clang in a build directory of their own (ASan + UBSan +
# -fsanitize=fuzzer) and runs each for FUZZ_SECONDS (default 30) seconds.
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
make fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
