/* Owned byte buffers, wiped on free. */
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int azkv_bytes_set(azkv_bytes *out, const void *src, size_t len)
{
	/* Never NULL on success, even for len 0, so callers can test data. */
	unsigned char *p = malloc(len ? len : 1);

	if (!p)
		return -1;
	if (len)
		memcpy(p, src, len);
	out->data = p;
	out->len = len;
	return 0;
}

void azkv_bytes_wipe(const azkv_bytes *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->len);
}

void azkv_bytes_free(azkv_bytes *b)
{
	if (!b)
		return;
	azkv_bytes_wipe(b);
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void azkv_secret_str_free(char *s)
{
	azkv_secret_str_wipe(s);
	free(s);
}

void azkv_secret_str_wipe(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
}
