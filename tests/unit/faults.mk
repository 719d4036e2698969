# tests/unit/faults (owned by the faults area, issue 7): a full disk under
# the issuing service, the endpoint under a crowd of bad clients, a
# misbehaving HTTP server against the client's limits.
check_PROGRAMS += tests/unit/faults
TESTS += tests/unit/faults
tests_unit_faults_SOURCES = tests/unit/faults.c tests/unit/faults-http.c tests/unit/faults.h \
	tests/unit/store-certs.c tests/unit/store-certs.h
tests_unit_faults_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_faults_LDADD = $(TESTS_LDADD)
EXTRA_DIST += tests/unit/faults.mk
