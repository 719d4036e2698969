# tests/integration/dns-pebble: dns-01 against a real PowerDNS (harness in
# pdns.c, started per test on free loopback ports) and end to end with
# Pebble validating through that PowerDNS.  A missing pdns_server exits 99.
check_PROGRAMS += tests/integration/dns-pebble
TESTS += tests/integration/dns-pebble
tests_integration_dns_pebble_SOURCES = tests/integration/dns-pebble.c \
	tests/integration/pdns.c tests/integration/pdns.h $(PEBBLE_HARNESS_SOURCES)
tests_integration_dns_pebble_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_integration_dns_pebble_LDADD = $(TESTS_LDADD)
EXTRA_DIST += tests/integration/dns.mk
