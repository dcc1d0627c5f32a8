/* A session AES key object for the AES mechanism tests, and hex. Inline:
 * not every test uses every helper. */
#ifndef AZKV_TEST_AES_FIXTURE_H
#define AZKV_TEST_AES_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "mech.h"
#include "object.h"

static inline size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = 0;
	unsigned int b;
	for (; hex[0] && hex[1] && sscanf(hex, "%2x", &b) == 1; hex += 2)
		out[n++] = (unsigned char)b;
	return n;
}

/* obj is a secret key of value (not copied: keep value alive). */
static inline void aes_key(azkv_object *obj, unsigned char *value, size_t len)
{
	memset(obj, 0, sizeof(*obj));
	obj->cls = CKO_SECRET_KEY;
	obj->key_type = CKK_AES;
	obj->value.data = value;
	obj->value.len = len;
}

/* Starts an operation of family ops with m and key: encrypt 1 or decrypt
 * 0, as the frame would after its key checks. */
static inline CK_RV family_init(const azkv_op_ops *ops, void **ctx, const CK_MECHANISM *m,
                                const azkv_object *key, int encrypt)
{
	return ops->init(ctx, azkv_mech_find(m->mechanism), m, key,
	                 encrypt ? AZKV_OPER_ENCRYPT : AZKV_OPER_DECRYPT);
}

#endif
