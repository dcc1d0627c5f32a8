#include "login.h"

#include <string.h>

#include <openssl/crypto.h>

#include "attr.h"

int azkv_login_required(const azkv_token *tok)
{
	return tok->vault->pin != NULL;
}

int azkv_login_shows(const azkv_object *obj)
{
	const azkv_token *tok = azkv_token_get(obj->slot);
	if (tok == NULL || !azkv_attrs_bool(&obj->attrs, CKA_PRIVATE, CK_FALSE))
		return 1;
	return azkv_login_private_shows(tok);
}

int azkv_login_private_shows(const azkv_token *tok)
{
	return !azkv_login_required(tok) || tok->logged_in;
}

int azkv_login_pin_matches(const azkv_token *tok, const unsigned char *pin, CK_ULONG len)
{
	const char *want = tok->vault->pin;
	size_t n = strlen(want);
	int same_len = len == n;
	/* A PIN of another length is compared with the PIN itself, so that
	 * the same bytes are read either way and the answer is refused. */
	const void *given = same_len ? (const void *)pin : (const void *)want;
	return (CRYPTO_memcmp(want, given, n) == 0) & same_len;
}

void azkv_login_end(azkv_token *tok)
{
	tok->logged_in = 0;
	if (azkv_login_required(tok))
		azkv_objects_private_logged_out(tok->id);
}
