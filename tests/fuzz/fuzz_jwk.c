/* Feeds a JSON Web Key, as the "key" member of a Key Vault key bundle, to
 * azkv_jwk_parse and, when it parses, to azkv_jwk_to_pkey (the RSA
 * modulus and exponent, the EC curve and point, into an OpenSSL key). */
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "fuzz.h"
#include "jwk.h"

FUZZ_QUIET_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	cJSON *root = cJSON_Parse(text);
	azkv_jwk jwk;
	EVP_PKEY *pkey = NULL;
	azkv_err err;

	if (azkv_jwk_parse(root, &jwk, &err) == AZKV_OK) {
		if (azkv_jwk_to_pkey(&jwk, &pkey, &err) == AZKV_OK)
			EVP_PKEY_free(pkey);
		else
			azkv_debug("%s", err.message);
		azkv_jwk_free(&jwk);
	} else {
		azkv_debug("%s", err.message);
	}
	cJSON_Delete(root);
	free(text);
	return 0;
}
