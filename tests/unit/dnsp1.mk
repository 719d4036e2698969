# tests/unit/dnsp1 (owned by the dnsp1 providers): Cloudflare,
# DigitalOcean, Hetzner, Linode and deSEC against local mocks of their APIs
# (tests/support/mockhttp.c, libmicrohttpd).
if HAVE_MHD
check_PROGRAMS += tests/unit/dnsp1
TESTS += tests/unit/dnsp1
tests_unit_dnsp1_SOURCES = tests/unit/dnsp1.c tests/unit/dnsp1.h \
	tests/unit/dnsp1-mocks.c tests/unit/dnsp1-mocks-b.c tests/unit/dnsp1-specific.c \
	tests/support/mockhttp.c tests/support/mockhttp.h
tests_unit_dnsp1_CPPFLAGS = $(TESTS_CPPFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/tests
tests_unit_dnsp1_LDADD = $(TESTS_LDADD) $(MHD_LIBS)
endif
EXTRA_DIST += tests/unit/dnsp1.mk
