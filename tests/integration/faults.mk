# tests/integration/faults (owned by the faults area, issue 7): Pebble
# killed mid-order and restarted, 50 % nonce rejection over 100 issuances,
# a certificate writer and acmed killed with SIGKILL 100 times each.
check_PROGRAMS += tests/integration/faults tests/integration/faults-writer
TESTS += tests/integration/faults
tests_integration_faults_SOURCES = tests/integration/faults.c tests/integration/faults-kill.c \
	tests/integration/faults.h $(PEBBLE_HARNESS_SOURCES)
tests_integration_faults_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_faults_LDADD = $(TESTS_LDADD)
# The SIGKILL loop over acmed itself, where acmed is built.
if BUILD_ACMED
tests_integration_faults_CPPFLAGS += -DFAULTS_ACMED=1
endif
# The helper the SIGKILL loop starts (not a test by itself).
tests_integration_faults_writer_SOURCES = tests/integration/faults-writer.c
tests_integration_faults_writer_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_faults_writer_LDADD = $(TESTS_LDADD)
EXTRA_DIST += tests/integration/faults.mk
