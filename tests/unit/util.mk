check_PROGRAMS += tests/unit/util
TESTS += tests/unit/util
tests_unit_util_SOURCES = tests/unit/util.c
tests_unit_util_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_util_LDADD = $(TESTS_LDADD)
