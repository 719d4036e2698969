# tests/unit/dnsp3: the DNS providers gandiv5, ovh, acmedns and exec, each
# against a mock of its API (tests/support/mockhttp.c, libmicrohttpd) or,
# for exec, scripts written at run time; the OVH signature vectors.
if HAVE_MHD
check_PROGRAMS += tests/unit/dnsp3
TESTS += tests/unit/dnsp3
tests_unit_dnsp3_SOURCES = tests/unit/dnsp3.c \
	tests/support/mockhttp.c tests/support/mockhttp.h \
	tests/support/dnsmock.c tests/support/dnsmock.h
tests_unit_dnsp3_CPPFLAGS = $(TESTS_CPPFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/tests
tests_unit_dnsp3_LDADD = $(TESTS_LDADD) $(MHD_LIBS)
endif
EXTRA_DIST += tests/unit/dnsp3.mk
