#!/bin/sh
# The test command: install dependencies, build from a clean tree, run
# every test (unit, integration against a real Pebble, headers, exports,
# man pages), then make distcheck.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
build=${BUILD_DIR:-build}
rm -rf "$build"
mkdir -p "$build"
cd "$build"
../configure --enable-werror
make -j"$(nproc)"
status=0
make -j"$(nproc)" check || status=$?
# Show every test's log tail when something failed, then the summary.
if [ "$status" -ne 0 ]; then
    for log in $(find . -name '*.log' ! -name config.log ! -name test-suite.log); do
        if grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "${log%.log}.trs" 2>/dev/null; then
            echo "=== $log"; tail -n 150 "$log"
        fi
    done
    exit "$status"
fi
make -j"$(nproc)" distcheck
# Fuzzing: every libFuzzer target for a fixed budget in a clang build.
cd ..
FUZZ_SECONDS=${FUZZ_SECONDS:-30} sh tests/fuzz/ci.sh
echo "all tests passed"
