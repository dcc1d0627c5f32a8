/* Feeds a key bundle (the answer of GET /keys/NAME[/VERSION], create,
 * import, rotate and update) to azkv_key_parse: its JWK, the kid split
 * into name and version, the attributes, the tags; then the public key
 * made from the JWK, as the module does when it loads a key. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "fuzz.h"
#include "keyvault.h"

FUZZ_QUIET_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	cJSON *root = cJSON_Parse(text);
	azkv_key key;
	EVP_PKEY *pkey = NULL;
	azkv_err err;

	if (azkv_key_parse(root, &key, &err) == AZKV_OK) {
		azkv_debug("key %s version %s", key.name, key.version ? key.version : "(none)");
		if (azkv_jwk_to_pkey(&key.jwk, &pkey, &err) == AZKV_OK)
			EVP_PKEY_free(pkey);
		azkv_key_free(&key);
	} else {
		azkv_debug("%s", err.message);
	}
	cJSON_Delete(root);
	free(text);
	return 0;
}
