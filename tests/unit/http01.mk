# tests/unit/http01: token table, standalone listener, webroot (owned by
# the http-01 area).
check_PROGRAMS += tests/unit/http01
TESTS += tests/unit/http01
tests_unit_http01_SOURCES = tests/unit/http01.c
tests_unit_http01_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_http01_LDADD = $(TESTS_LDADD)
