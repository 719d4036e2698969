# tests/bench: benchmarks against Pebble and the peers Debian ships.
# Built only by `make bench` (EXTRA_PROGRAMS), never by `make check`;
# run with `sh tests/bench/run.sh` (see doc/PERFORMANCE).
EXTRA_PROGRAMS = tests/bench/bench-issue tests/bench/bench-endpoint
tests_bench_bench_issue_SOURCES = tests/bench/bench-issue.c
tests_bench_bench_issue_LDADD = lib/libacme.la $(PTHREAD_LIBS)
tests_bench_bench_endpoint_SOURCES = tests/bench/bench-endpoint.c
tests_bench_bench_endpoint_CPPFLAGS = $(AM_CPPFLAGS) $(GNUTLS_CFLAGS)
tests_bench_bench_endpoint_LDADD = lib/libacme.la $(GNUTLS_LIBS) $(PTHREAD_LIBS)
CLEANFILES += tests/bench/bench-issue$(EXEEXT) tests/bench/bench-endpoint$(EXEEXT)
EXTRA_DIST += tests/bench/run.sh tests/bench/lib.sh doc/PERFORMANCE
bench: tests/bench/bench-issue$(EXEEXT) tests/bench/bench-endpoint$(EXEEXT)
.PHONY: bench
