/* Feeds a WWW-Authenticate header value (the Bearer challenge of a 401
 * from Key Vault or Managed HSM) to azkv_challenge_parse, and the same
 * text as a Retry-After value to azkv_retry_after_ms. */
#include "challenge.h"
#include "fuzz.h"
#include "http.h"
#include "retry.h"

FUZZ_QUIET_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	azkv_challenge c;
	azkv_err err;

	if (azkv_challenge_parse(text, &c, &err) == AZKV_OK) {
		azkv_debug("authorization %s tenant %s resource %s scope %s",
		           c.authorization ? c.authorization : "-", c.tenant_id ? c.tenant_id : "-",
		           c.resource ? c.resource : "-", c.scope);
		azkv_challenge_free(&c);
	} else {
		azkv_debug("%s", err.message);
	}
	azkv_debug("retry after %ld ms", azkv_retry_after_ms(text, 1000, 60000));
	free(text);
	return 0;
}
