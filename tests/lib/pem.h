/* Reading a public key from a PEM file, for the test programs that check
 * the module's results with OpenSSL (tests/soak, tests/bench). */
#ifndef AZKV_TEST_PEM_H
#define AZKV_TEST_PEM_H

#include <openssl/types.h>

/* The public key in the PEM file, owned by the caller; NULL, after a line
 * on stderr that starts with prog, if it cannot be read. */
EVP_PKEY *test_read_public_pem(const char *prog, const char *file);

#endif
