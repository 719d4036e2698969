# tests/unit/dns (owned by the dns-01 area): settings, registry, zones,
# TXT quoting, DNS wire format, HTTP error mapping, the PowerDNS provider
# against a mock of its API (tests/support/mockhttp.c, libmicrohttpd), the
# responder on a memory provider.
if HAVE_MHD
check_PROGRAMS += tests/unit/dns
TESTS += tests/unit/dns
tests_unit_dns_SOURCES = tests/unit/dns.c \
	tests/support/mockhttp.c tests/support/mockhttp.h \
	tests/support/dnsmock.c tests/support/dnsmock.h
tests_unit_dns_CPPFLAGS = $(TESTS_CPPFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/tests
tests_unit_dns_LDADD = $(TESTS_LDADD) $(MHD_LIBS)
endif
# Without libmicrohttpd, transport.mk's transport-needs-mhd.test fails the suite.
EXTRA_DIST += tests/unit/dns.mk
