/*
 * libacme: the umbrella header.  Includes every public area; implementer
 * headers (<acme/sys/...>) are separate.
 */
#ifndef ACME_ACME_H
#define ACME_ACME_H

#include <acme/common.h>
#include <acme/version.h>
#include <acme/error.h>
#include <acme/log.h>
#include <acme/crypto.h>
#include <acme/client.h>
#include <acme/responder.h>
#include <acme/clock.h>
#include <acme/issuer.h>
#include <acme/service.h>
#include <acme/store.h>
#include <acme/http01.h>
#include <acme/tlsalpn01.h>
#include <acme/dns.h>
#include <acme/endpoint.h>
#include <acme/letsencrypt.h>

#endif /* ACME_ACME_H */
