# tests/unit/testing (owned by the testing area): clocks, acme__clock_wait,
# the issuer wrapper, the fake CA and its controller.
check_PROGRAMS += tests/unit/testing
TESTS += tests/unit/testing
tests_unit_testing_SOURCES = tests/unit/testing.c
tests_unit_testing_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_testing_LDADD = $(TESTS_LDADD)
