/*
 * util: the global init hooks of each layer, called by acme_global_init().
 */
#ifndef ACME_UTIL_INIT_H
#define ACME_UTIL_INIT_H

int acme__crypto_global_init(void);      /* lib/crypto/ */
void acme__crypto_global_cleanup(void);
int acme__transport_global_init(void);   /* lib/transport/ */
void acme__transport_global_cleanup(void);

#endif
