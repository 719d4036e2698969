/*
 * Unit tests (faults, issue 7): the parts of tests/unit/faults kept in
 * files of their own.
 */
#ifndef ACME_TESTS_FAULTS_H
#define ACME_TESTS_FAULTS_H

/* faults-http.c: a misbehaving HTTP server against the client's limits. */
void faults_http_add_tests(void);

#endif
