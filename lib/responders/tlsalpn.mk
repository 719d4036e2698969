# lib/responders: tls-alpn-01 (registry, responder, standalone listener),
# and the null responder.
lib_libacme_internal_la_SOURCES += \
	lib/responders/null.c \
	lib/responders/tlsalpn01.c lib/responders/tlsalpn01.h \
	lib/responders/tlsalpn01-listen.c
