/* Owned byte buffers. azkv_bytes_free wipes before freeing, so the same
 * type holds public values and secrets (unwrapped key material) alike. */
#ifndef AZKV_BYTES_H
#define AZKV_BYTES_H

#include <stddef.h>

typedef struct azkv_bytes {
	unsigned char *data;
	size_t len;
} azkv_bytes;

/* Copies len bytes of src into out (owned). Returns 0, or -1 on ENOMEM. */
int azkv_bytes_set(azkv_bytes *out, const void *src, size_t len);

/* Wipes (OPENSSL_cleanse) and frees; leaves out empty. NULL-safe. */
void azkv_bytes_free(azkv_bytes *b);

/* Wipes the bytes in place, freeing nothing (a forked child wipes what it
 * abandons). */
void azkv_bytes_wipe(const azkv_bytes *b);

/* Wipes and frees a NUL-terminated secret string. NULL-safe. */
void azkv_secret_str_free(char *s);

/* Wipes a secret string in place, freeing nothing (a forked child wipes
 * what it abandons). NULL-safe. */
void azkv_secret_str_wipe(char *s);

#endif
