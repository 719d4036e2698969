#!/bin/sh
# tests/fuzz/run.sh: run each libFuzzer target for a fixed time budget.
#
#   FUZZ_SECONDS=30 tests/fuzz/run.sh [NAME...]     (default: every target)
#
# Run from the build tree of `./configure CC=clang --enable-fuzz` after
# `make fuzz` (or use `make fuzz-run`).  For each target it prints the
# number of executions; a crash, leak, sanitizer report or timeout fails
# the run, and the input that did it is kept in
# $FUZZ_BUILDDIR/crashes/<name>/ (copy it to tests/fuzz/regressions/<name>/
# once fixed, so that make check replays it).
#
# New inputs libFuzzer finds go to $FUZZ_BUILDDIR/work/<name>/, never into
# the seed corpus in the source tree.
#
# Environment: FUZZ_SECONDS (30), FUZZ_SRCDIR (this script's directory),
# FUZZ_BUILDDIR (./tests/fuzz), FUZZ_JOBS_FLAGS (extra libFuzzer flags).
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${FUZZ_SRCDIR:-$here}
builddir=${FUZZ_BUILDDIR:-$(pwd)/tests/fuzz}
seconds=${FUZZ_SECONDS:-30}
extra=${FUZZ_JOBS_FLAGS:-}

all="json directory account order authz challenge problem link retry-after rfc3339
key-pem chain-pem bundle-pem name http01-path tlsalpn01-name endpoint-string
clienthello dns-answer dns-txt dns-zone dns-config dns-xml
acmed-conf"

# The longest input worth trying, per target: a bit above the largest real
# document of its kind, so that mutations stay near real input.
max_len() {
    case $1 in
        retry-after|rfc3339) echo 128 ;;
        name|http01-path|tlsalpn01-name|endpoint-string) echo 512 ;;
        clienthello|dns-answer) echo 2048 ;;
        dns-xml|acmed-conf) echo 4096 ;;
        dns-txt|dns-zone|dns-config) echo 1024 ;;
        link) echo 2048 ;;
        json|directory|account|order|authz|challenge|problem) echo 8192 ;;
        key-pem) echo 8192 ;;
        chain-pem|bundle-pem) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

[ $# -gt 0 ] || set -- $all
status=0
total=0
summary=""
for t in "$@"; do
    prog="$builddir/fuzz-$t"
    if [ ! -x "$prog" ]; then
        echo "run.sh: $prog not built (./configure CC=clang --enable-fuzz && make fuzz)" >&2
        exit 2
    fi
    work="$builddir/work/$t"
    crashes="$builddir/crashes/$t"
    log="$builddir/fuzz-$t.log"
    mkdir -p "$work" "$crashes"
    dirs="$work $srcdir/corpus/$t"
    [ -d "$srcdir/regressions/$t" ] && dirs="$dirs $srcdir/regressions/$t"
    echo "== fuzz-$t: ${seconds}s, -max_len=$(max_len "$t")"
    # -timeout: an input that takes 10 s is a hang, reported like a crash.
    # shellcheck disable=SC2086
    "$prog" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$crashes/" $extra $dirs >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=${execs:-0}
    total=$((total + execs))
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "fuzz-$t: FAILED (exit $rc) after $execs executions; log: $log" >&2
        grep -E 'ERROR|SUMMARY|invariant failed|Test unit written' "$log" | head -n 10 >&2
        summary="$summary$(printf '%-16s %12s  CRASH' "$t" "$execs")
"
    else
        summary="$summary$(printf '%-16s %12s  ok' "$t" "$execs")
"
    fi
done
echo
printf '%-16s %12s\n' target executions
printf '%s' "$summary"
printf '%-16s %12s\n' total "$total"
exit "$status"
