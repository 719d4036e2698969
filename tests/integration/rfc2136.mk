# tests/integration/rfc2136-pdns: the RFC 2136 + TSIG provider against a
# real PowerDNS with dynamic updates on (harness in pdns.c), and end to end
# with Pebble validating through that PowerDNS.  A missing pdns_server or
# Pebble exits 99.
check_PROGRAMS += tests/integration/rfc2136-pdns
TESTS += tests/integration/rfc2136-pdns
tests_integration_rfc2136_pdns_SOURCES = tests/integration/rfc2136-pdns.c \
	tests/integration/pdns.c tests/integration/pdns.h $(PEBBLE_HARNESS_SOURCES)
tests_integration_rfc2136_pdns_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_rfc2136_pdns_LDADD = $(TESTS_LDADD)
EXTRA_DIST += tests/integration/rfc2136.mk
