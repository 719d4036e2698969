# tests/unit/rfc2136: the RFC 2136 + TSIG provider without a DNS server:
# UPDATE encoding, TSIG known answers (GHmac), response checks, the
# UDP-truncated-then-TCP exchange against a fake loopback server, key
# files and settings.
check_PROGRAMS += tests/unit/rfc2136
TESTS += tests/unit/rfc2136
tests_unit_rfc2136_SOURCES = tests/unit/rfc2136.c
tests_unit_rfc2136_CPPFLAGS = $(TESTS_CPPFLAGS)
tests_unit_rfc2136_LDADD = $(TESTS_LDADD)
EXTRA_DIST += tests/unit/rfc2136.mk
