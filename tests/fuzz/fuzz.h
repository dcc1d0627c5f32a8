/* What the libFuzzer harnesses in tests/fuzz share. Each harness is one
 * file that defines LLVMFuzzerTestOneInput; its comment says what it feeds.
 * Build with --enable-fuzzing (CC=clang); run with make fuzz-smoke or make
 * fuzz (tests/fuzz/run.sh). */
#ifndef AZKV_FUZZ_H
#define AZKV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "jwk.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (owned; what follows an embedded
 * NUL is not seen, as with a C string from the network). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input parsed as JSON (NULL when it is not) fed to feed, then
 * freed; LLVMFuzzerTestOneInput's answer. */
static inline int fuzz_json(const uint8_t *data, size_t size, void (*feed)(const cJSON *root))
{
	char *text = fuzz_text(data, size);
	cJSON *root = cJSON_Parse(text);

	feed(root);
	cJSON_Delete(root);
	free(text);
	return 0;
}

/* The OpenSSL key made from jwk, as the module does when it loads a key,
 * and freed; a refusal is logged. */
static inline void fuzz_public_key(const azkv_jwk *jwk)
{
	EVP_PKEY *pkey = NULL;
	azkv_err err;

	if (azkv_jwk_to_pkey(jwk, &pkey, &err) == AZKV_OK)
		EVP_PKEY_free(pkey);
	else
		azkv_debug("%s", err.message);
}

/* Every log line formatted (trace: the messages that quote hostile text
 * are built) and written to /dev/null, so that the fuzzer's own output
 * stays readable. The environment wins over any configuration. */
static inline void fuzz_quiet_log(void)
{
	setenv("AZKV_PKCS11_LOG_LEVEL", "trace", 1);
	setenv("AZKV_PKCS11_LOG_FILE", "/dev/null", 1);
	azkv_log_configure(NULL, NULL, NULL);
}

/* The LLVMFuzzerInitialize of a harness that needs nothing more. */
#define FUZZ_QUIET_INITIALIZE                                                                      \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                                          \
	{                                                                                          \
		(void)argc;                                                                        \
		(void)argv;                                                                        \
		fuzz_quiet_log();                                                                  \
		return 0;                                                                          \
	}

#endif
