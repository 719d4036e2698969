# lib/responders: tls-alpn-01 (registry, responder, standalone listener),
# the null responder, and the name check every responder uses.
lib_libacme_internal_la_SOURCES += \
	lib/responders/challenge-name.c lib/responders/challenge-name.h \
	lib/responders/null.c \
	lib/responders/tlsalpn01.c lib/responders/tlsalpn01.h \
	lib/responders/tlsalpn01-listen.c
