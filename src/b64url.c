/* base64url on OpenSSL's base64 codec: only the alphabet ('-' '_' for
 * '+' '/') and the padding are handled here. */
#include "b64url.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

char *azkv_b64url_encode(const unsigned char *in, size_t len)
{
	size_t cap;
	char *out;
	int n;

	if (len > (size_t)INT_MAX / 4 * 3)
		return NULL;
	cap = 4 * ((len + 2) / 3) + 1;
	out = malloc(cap);
	if (!out)
		return NULL;
	n = len ? EVP_EncodeBlock((unsigned char *)out, in, (int)len) : 0;
	if (n < 0) {
		free(out);
		return NULL;
	}
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (int i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

static int is_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int azkv_b64url_decode(const char *in, azkv_bytes *out)
{
	size_t len, data_len, pad, std_len = 0;
	char *std = NULL;
	unsigned char *bin = NULL;
	size_t bin_cap = 0;
	int n, ret = -1;

	out->data = NULL;
	out->len = 0;
	if (!in)
		return -1;
	len = strlen(in);
	data_len = len;
	while (data_len > 0 && in[data_len - 1] == '=')
		data_len--;
	/* Padding, when present, must complete the last quantum exactly. */
	if (data_len != len && (len % 4 != 0 || len - data_len > 2))
		goto out;
	if (data_len % 4 == 1)
		goto out;
	for (size_t i = 0; i < data_len; i++) {
		if (!is_b64url_char(in[i]))
			goto out;
	}
	if (data_len == 0) {
		ret = azkv_bytes_set(out, "", 0);
		goto out;
	}
	if (data_len > (size_t)INT_MAX - 4)
		goto out;

	pad = (4 - data_len % 4) % 4;
	std_len = data_len + pad;
	std = malloc(std_len + 1);
	bin_cap = std_len / 4 * 3;
	bin = malloc(bin_cap);
	if (!std || !bin)
		goto out;
	for (size_t i = 0; i < data_len; i++)
		std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	memset(std + data_len, '=', pad);
	std[std_len] = '\0';

	/* EVP_DecodeBlock counts the padding as zero bytes; drop them. */
	n = EVP_DecodeBlock(bin, (const unsigned char *)std, (int)std_len);
	if (n < 0 || (size_t)n != bin_cap)
		goto out;
	out->data = bin;
	out->len = bin_cap - pad;
	bin = NULL;
	ret = 0;
out:
	if (std) {
		OPENSSL_cleanse(std, std_len);
		free(std);
	}
	if (bin) {
		OPENSSL_cleanse(bin, bin_cap);
		free(bin);
	}
	return ret;
}
