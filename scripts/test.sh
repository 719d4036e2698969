#!/bin/sh
# The test command: install dependencies, build from a clean tree, run
# every test (unit, integration against a real Pebble, headers, exports,
# man pages), then make distcheck, the suite again under valgrind's
# memcheck, under AddressSanitizer with UndefinedBehaviorSanitizer and
# under ThreadSanitizer, and the fuzz targets for a fixed budget.
#
# Environment: BUILD_DIR (build), VALGRIND (1; 0 skips make
# check-valgrind), SANITIZERS ("address,undefined thread"; empty skips
# them), FUZZ_SECONDS (30).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
jobs=$(nproc)

# run_tests DIR TARGET: make TARGET (check, check-valgrind) in DIR; on
# failure print the log of every failed test, then stop.
run_tests() {
    (
        cd "$1"
        status=0
        make -j"$jobs" "$2" || status=$?
        if [ "$status" -ne 0 ]; then
            for trs in $(find . -name '*.trs'); do
                if grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs"; then
                    echo "=== ${trs%.trs}.log"
                    tail -n 150 "${trs%.trs}.log"
                fi
            done
            echo "make $2 failed in $1"
            exit "$status"
        fi
    )
}

# check DIR CONFIGURE-ARGS...: configure in a fresh DIR, build, make check.
check() {
    dir=$1
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && "$top/configure" --enable-werror "$@" && make -j"$jobs")
    run_tests "$dir" check
}

build=${BUILD_DIR:-build}
check "$build"
(cd "$build" && make -j"$jobs" distcheck)
# memcheck: leaks (definite), invalid accesses and descriptors left open.
[ "${VALGRIND:-1}" = 0 ] || run_tests "$build" check-valgrind
for san in ${SANITIZERS-address,undefined thread}; do
    echo "=== make check with -fsanitize=$san"
    check "$build/san-$(echo "$san" | tr , -)" --with-sanitizer="$san"
done
# Fuzzing: every libFuzzer target for a fixed budget in a clang build.
FUZZ_SECONDS=${FUZZ_SECONDS:-30} sh tests/fuzz/ci.sh
echo "all tests passed"
