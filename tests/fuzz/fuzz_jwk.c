/* Feeds a JSON Web Key, as the "key" member of a Key Vault key bundle, to
 * azkv_jwk_parse and, when it parses, to azkv_jwk_to_pkey (the RSA
 * modulus and exponent, the EC curve and point, into an OpenSSL key). */
#include "fuzz.h"
#include "jwk.h"

FUZZ_QUIET_INITIALIZE

static void feed(const cJSON *root)
{
	azkv_jwk jwk;
	azkv_err err;

	if (azkv_jwk_parse(root, &jwk, &err) != AZKV_OK) {
		azkv_debug("%s", err.message);
		return;
	}
	fuzz_public_key(&jwk);
	azkv_jwk_free(&jwk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_json(data, size, feed);
}
