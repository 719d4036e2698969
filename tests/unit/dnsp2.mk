# tests/unit/dnsp2 (owned by the dnsp2 area): AWS SigV4 vectors, the XML
# reader, JWT signing, and the Route 53 and Google Cloud DNS providers
# against mocks of their APIs (tests/support/mockhttp.c, libmicrohttpd).
if HAVE_MHD
check_PROGRAMS += tests/unit/dnsp2
TESTS += tests/unit/dnsp2
tests_unit_dnsp2_SOURCES = tests/unit/dnsp2.c \
	tests/support/mockhttp.c tests/support/mockhttp.h \
	tests/support/dnsmock.c tests/support/dnsmock.h
tests_unit_dnsp2_CPPFLAGS = $(TESTS_CPPFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/tests
tests_unit_dnsp2_LDADD = $(TESTS_LDADD) $(MHD_LIBS)
endif
EXTRA_DIST += tests/unit/dnsp2.mk
