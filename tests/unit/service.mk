# tests/unit/service: the issuing service and its policy (internal library),
# on the manual clock, the fake CA and the memory store.
check_PROGRAMS += tests/unit/service
TESTS += tests/unit/service
tests_unit_service_SOURCES = tests/unit/service.c
tests_unit_service_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_service_LDADD = $(TESTS_LDADD)
