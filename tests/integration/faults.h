/*
 * tests/integration: helpers shared by the parts of tests/integration/faults.
 */
#ifndef ACME_TESTS_INTEGRATION_FAULTS_H
#define ACME_TESTS_INTEGRATION_FAULTS_H

#include <stdbool.h>

#include <glib.h>

#include <acme/acme.h>

/* LIBACME_TEST_LOG is set: echo logs to stderr. */
bool faults_test_log(void);
/* Remove @p path and everything below it. */
void faults_rm_rf(const char *path);
/* The contents of @p dir/@p file (g_free), or NULL. */
char *faults_file_text(const char *dir, const char *file);
/*
 * Assert that the stored entry is a whole certificate for @p name: key,
 * leaf with @p name as its only SAN matching the key, a chain.  Returns
 * its serial (g_free).
 */
char *faults_assert_whole_cert(acme_store *store, const char *name);
/* g_spawn child setup: the child dies with the test program (Linux). */
void faults_child_setup(gpointer data);

/* faults-kill.c: the SIGKILL loops. */
void faults_kill_add_tests(void);

#endif
