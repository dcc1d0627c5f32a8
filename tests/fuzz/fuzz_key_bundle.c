/* Feeds a key bundle (the answer of GET /keys/NAME[/VERSION], create,
 * import, rotate and update) to azkv_key_parse: its JWK, the kid split
 * into name and version, the attributes, the tags; then the public key
 * made from the JWK, as the module does when it loads a key. */
#include "fuzz.h"
#include "keyvault.h"

FUZZ_QUIET_INITIALIZE

static void feed(const cJSON *root)
{
	azkv_key key;
	azkv_err err;

	if (azkv_key_parse(root, &key, &err) != AZKV_OK) {
		azkv_debug("%s", err.message);
		return;
	}
	azkv_debug("key %s version %s", key.name, key.version ? key.version : "(none)");
	fuzz_public_key(&key.jwk);
	azkv_key_free(&key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_json(data, size, feed);
}
