# lib/service: the issuing service (owned by the service area).  Clocks,
# issuers and test doubles are in lib/service/Makefile.inc.
lib_libacme_internal_la_SOURCES += \
	lib/service/service-internal.h \
	lib/service/service.c \
	lib/service/work.c \
	lib/service/status.c \
	lib/service/policy.h \
	lib/service/policy.c
