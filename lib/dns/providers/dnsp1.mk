# Built-in DNS providers of the dnsp1 batch, one file each (see
# lib/dns/providers/pdns.c for the reference provider).
lib_libacme_internal_la_SOURCES += \
	lib/dns/providers/cloudflare.c \
	lib/dns/providers/digitalocean.c \
	lib/dns/providers/hetzner.c \
	lib/dns/providers/linode.c \
	lib/dns/providers/desec.c
EXTRA_DIST += lib/dns/providers/dnsp1.mk
