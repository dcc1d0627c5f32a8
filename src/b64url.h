/* base64url (RFC 4648 section 5) as Key Vault uses it: no '=' padding on
 * output; input accepted with or without padding. Built on OpenSSL's
 * base64 codec; only the alphabet and padding are handled here. */
#ifndef AZKV_B64URL_H
#define AZKV_B64URL_H

#include <stddef.h>

#include "bytes.h"

/* Returns a newly allocated NUL-terminated string (caller frees with
 * free()), or NULL on allocation failure. len 0 gives "". */
char *azkv_b64url_encode(const unsigned char *in, size_t len);

/* Decodes in into out (owned; free with azkv_bytes_free). Returns 0, or -1
 * when in is not valid base64url (bad character, impossible length). */
int azkv_b64url_decode(const char *in, azkv_bytes *out);

#endif
