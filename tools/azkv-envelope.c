/* azkv-envelope: envelope encryption of files through any PKCS#11 module.
 *
 * It uses nothing but PKCS#11 (the module is loaded with dlopen), so it
 * shows how an ordinary application uses azkv-pkcs11, and it runs against
 * other modules (SoftHSMv2) in the interoperability tests.
 *
 *   seal:   fresh AES-256 data-encryption key (C_GenerateKey), file encrypted
 *           with AES-GCM (C_Encrypt), key wrapped with the vault's public key
 *           (C_WrapKey, RSA-OAEP-256).
 *   open:   key unwrapped in the vault (C_UnwrapKey), file decrypted
 *           (C_Decrypt).
 *   unwrap: unwraps a wrapped key into an extractable, non-sensitive session
 *           key and prints its value in hex (for tests).
 *   wrap-new: generates an extractable AES key in the token, wraps it with a
 *           public key given as DER or with a token key, prints the value in
 *           hex (for tests).
 *
 * Envelope file: "AZKVENV1", then length-prefixed (16-bit big-endian) key id,
 * key label and wrapped key, a 16-bit algorithm number, a 12-byte IV, and
 * the AES-GCM ciphertext with its 16-byte tag. Everything before the IV is
 * the GCM additional data, so the metadata cannot be swapped undetected. */
#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azkv/azkv-pkcs11.h"
#include "whole_number.h"

#define MAGIC   "AZKVENV1"
#define IV_LEN  12
#define TAG_LEN 16

enum { ALG_OAEP = 1, ALG_OAEP256 = 2, ALG_PKCS1 = 3 };

static CK_FUNCTION_LIST *p11;
static int verbose;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("  - ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int fail(const char *what, CK_RV rv)
{
	fprintf(stderr, "azkv-envelope: %s failed: CKR 0x%lx\n", what, (unsigned long)rv);
	return 1;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "azkv-envelope: cannot open %s: %m\n", path);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	unsigned char *buf = malloc(cap);
	size_t got;
	while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			unsigned char *grown = realloc(buf, cap *= 2);
			if (grown == NULL) {
				free(buf);
				buf = NULL;
			}
			buf = grown;
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "azkv-envelope: cannot write %s: %m\n", path);
		return 1;
	}
	return 0;
}

static void print_hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* The slot whose token label is label (blank-padded), or the first slot. */
static CK_RV open_session(const char *label, const char *pin, CK_SESSION_HANDLE *session)
{
	CK_ULONG n = 0;
	CK_RV rv = p11->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK)
		return rv;
	if (n == 0) {
		fprintf(stderr, "azkv-envelope: the module has no slots\n");
		return CKR_SLOT_ID_INVALID;
	}
	CK_SLOT_ID *slots = calloc(n, sizeof(*slots));
	if (slots == NULL)
		return CKR_HOST_MEMORY;
	rv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	CK_SLOT_ID chosen = slots[0];
	int found = label == NULL;
	for (CK_ULONG i = 0; rv == CKR_OK && label != NULL && i < n; i++) {
		CK_TOKEN_INFO ti;
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		size_t len = sizeof(ti.label);
		while (len > 0 && ti.label[len - 1] == ' ')
			len--;
		if (len == strlen(label) && memcmp(ti.label, label, len) == 0) {
			chosen = slots[i];
			found = 1;
			break;
		}
	}
	free(slots);
	if (rv != CKR_OK)
		return rv;
	if (!found) {
		fprintf(stderr, "azkv-envelope: no token labelled '%s'\n", label);
		return CKR_TOKEN_NOT_PRESENT;
	}
	rv = p11->C_OpenSession(chosen, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, session);
	if (rv == CKR_OK && pin != NULL)
		rv = p11->C_Login(*session, CKU_USER, (unsigned char *)pin, strlen(pin));
	return rv;
}

static CK_RV find_one(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	CK_ULONG count = 0;
	CK_RV rv = p11->C_FindObjectsInit(s, tmpl, n);
	if (rv != CKR_OK)
		return rv;
	rv = p11->C_FindObjects(s, out, 1, &count);
	p11->C_FindObjectsFinal(s);
	if (rv == CKR_OK && count == 0)
		return CKR_OBJECT_HANDLE_INVALID;
	return rv;
}

static CK_RV find_key(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label,
                      CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_RV rv = find_one(s, t, 2, out);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		fprintf(stderr, "azkv-envelope: no %s key labelled '%s'\n",
		        cls == CKO_PUBLIC_KEY ? "public" : "private", label);
	return rv;
}

static void set_mechanism(int alg, CK_MECHANISM *m, CK_RSA_PKCS_OAEP_PARAMS *oaep)
{
	memset(oaep, 0, sizeof(*oaep));
	if (alg == ALG_PKCS1) {
		*m = (CK_MECHANISM){CKM_RSA_PKCS, NULL, 0};
		return;
	}
	oaep->hashAlg = alg == ALG_OAEP ? CKM_SHA_1 : CKM_SHA256;
	oaep->mgf = alg == ALG_OAEP ? CKG_MGF1_SHA1 : CKG_MGF1_SHA256;
	oaep->source = CKZ_DATA_SPECIFIED;
	*m = (CK_MECHANISM){CKM_RSA_PKCS_OAEP, oaep, sizeof(*oaep)};
}

static int parse_alg(const char *s)
{
	if (!strcmp(s, "RSA-OAEP"))
		return ALG_OAEP;
	if (!strcmp(s, "RSA-OAEP-256"))
		return ALG_OAEP256;
	if (!strcmp(s, "RSA1_5"))
		return ALG_PKCS1;
	fprintf(stderr,
	        "azkv-envelope: unknown algorithm '%s' (RSA-OAEP, RSA-OAEP-256, "
	        "RSA1_5)\n",
	        s);
	return -1;
}

static CK_RV gcm(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, int encrypt, unsigned char *iv,
                 const unsigned char *aad, size_t aad_len, const unsigned char *in, size_t in_len,
                 unsigned char **out, CK_ULONG *out_len)
{
	CK_GCM_PARAMS params = {iv, IV_LEN, IV_LEN * 8, (unsigned char *)aad, aad_len, TAG_LEN * 8};
	CK_MECHANISM m = {CKM_AES_GCM, &params, sizeof(params)};
	CK_RV rv = encrypt ? p11->C_EncryptInit(s, &m, key) : p11->C_DecryptInit(s, &m, key);
	if (rv != CKR_OK)
		return rv;
	*out_len = 0;
	rv = encrypt ? p11->C_Encrypt(s, (unsigned char *)in, in_len, NULL, out_len)
	             : p11->C_Decrypt(s, (unsigned char *)in, in_len, NULL, out_len);
	if (rv != CKR_OK)
		return rv;
	*out = malloc(*out_len ? *out_len : 1);
	if (*out == NULL)
		return CKR_HOST_MEMORY;
	return encrypt ? p11->C_Encrypt(s, (unsigned char *)in, in_len, *out, out_len)
	               : p11->C_Decrypt(s, (unsigned char *)in, in_len, *out, out_len);
}

/* Appends a 16-bit big-endian length and the bytes. */
static size_t put_field(unsigned char *p, const void *data, size_t len)
{
	p[0] = (unsigned char)(len >> 8);
	p[1] = (unsigned char)len;
	memcpy(p + 2, data, len);
	return 2 + len;
}

static int get_field(const unsigned char *buf, size_t len, size_t *pos, const unsigned char **data,
                     size_t *flen)
{
	if (*pos + 2 > len)
		return -1;
	*flen = ((size_t)buf[*pos] << 8) | buf[*pos + 1];
	if (*pos + 2 + *flen > len)
		return -1;
	*data = buf + *pos + 2;
	*pos += 2 + *flen;
	return 0;
}

static int cmd_seal(CK_SESSION_HANDLE s, const char *label, const char *in_path,
                    const char *out_path, int alg)
{
	CK_OBJECT_HANDLE pub, dek;
	CK_RV rv;
	int ret = 1;
	unsigned char *plain = NULL, *ct = NULL, *env = NULL;
	unsigned char wrapped[1024], iv[IV_LEN], kid[512];
	CK_ULONG wrapped_len = sizeof(wrapped), ct_len = 0;
	size_t plain_len = 0;

	if ((rv = find_key(s, CKO_PUBLIC_KEY, label, &pub)) != CKR_OK)
		return fail("finding the wrapping key", rv);
	/* The key id with version, so that open uses the same version even
	 * after a rotation. Modules without the vendor attribute get the label. */
	CK_ATTRIBUTE kid_attr = {CKA_AZKV_KEY_ID, kid, sizeof(kid)};
	if (p11->C_GetAttributeValue(s, pub, &kid_attr, 1) != CKR_OK)
		kid_attr.ulValueLen = 0;
	say("wrapping key: '%s'%s%.*s", label, kid_attr.ulValueLen ? " = " : "",
	    (int)kid_attr.ulValueLen, (char *)kid);

	CK_ULONG bytes = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {{CKA_VALUE_LEN, &bytes, sizeof(bytes)},
	                       {CKA_ENCRYPT, &yes, sizeof(yes)},
	                       {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	                       {CKA_SENSITIVE, &yes, sizeof(yes)}};
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	if ((rv = p11->C_GenerateKey(s, &gen, tmpl, 4, &dek)) != CKR_OK)
		return fail("C_GenerateKey", rv);
	say("C_GenerateKey: fresh AES-256 data-encryption key (a sensitive session object)");

	CK_MECHANISM m;
	CK_RSA_PKCS_OAEP_PARAMS oaep;
	set_mechanism(alg, &m, &oaep);
	if ((rv = p11->C_WrapKey(s, &m, pub, dek, wrapped, &wrapped_len)) != CKR_OK) {
		fail("C_WrapKey", rv);
		goto out;
	}
	say("C_WrapKey: DEK wrapped with the vault key's public half (%lu bytes)",
	    (unsigned long)wrapped_len);

	if ((plain = read_file(in_path, &plain_len)) == NULL)
		goto out;
	if ((rv = p11->C_GenerateRandom(s, iv, IV_LEN)) != CKR_OK) {
		fail("C_GenerateRandom", rv);
		goto out;
	}
	size_t hdr_cap = 8 + 3 * 2 + kid_attr.ulValueLen + strlen(label) + wrapped_len + 2;
	env = malloc(hdr_cap + IV_LEN + plain_len + TAG_LEN);
	if (env == NULL)
		goto out;
	size_t n = 0;
	memcpy(env, MAGIC, 8);
	n = 8;
	n += put_field(env + n, kid, kid_attr.ulValueLen);
	n += put_field(env + n, label, strlen(label));
	n += put_field(env + n, wrapped, wrapped_len);
	env[n++] = 0;
	env[n++] = (unsigned char)alg;
	if ((rv = gcm(s, dek, 1, iv, env, n, plain, plain_len, &ct, &ct_len)) != CKR_OK) {
		fail("C_Encrypt (AES-GCM)", rv);
		goto out;
	}
	say("C_Encrypt: %zu bytes encrypted with AES-256-GCM under the DEK", plain_len);
	memcpy(env + n, iv, IV_LEN);
	memcpy(env + n + IV_LEN, ct, ct_len);
	if (write_file(out_path, env, n + IV_LEN + ct_len) != 0)
		goto out;
	say("wrote %s: header, wrapped DEK, IV, ciphertext and tag", out_path);
	ret = 0;
out:
	p11->C_DestroyObject(s, dek);
	say("C_DestroyObject: the plaintext DEK is gone; only the wrapped copy remains");
	if (plain != NULL)
		OPENSSL_cleanse(plain, plain_len);
	free(plain);
	free(ct);
	free(env);
	return ret;
}

static int cmd_open(CK_SESSION_HANDLE s, const char *in_path, const char *out_path)
{
	size_t len = 0, pos = 8, kid_len, label_len, wrapped_len;
	const unsigned char *kid, *label, *wrapped;
	unsigned char *env = read_file(in_path, &len), *plain = NULL;
	CK_ULONG plain_len = 0;
	CK_OBJECT_HANDLE priv, dek = CK_INVALID_HANDLE;
	CK_RV rv;
	int ret = 1;
	if (env == NULL)
		return 1;
	if (len < 8 || memcmp(env, MAGIC, 8) != 0 || get_field(env, len, &pos, &kid, &kid_len) ||
	    get_field(env, len, &pos, &label, &label_len) ||
	    get_field(env, len, &pos, &wrapped, &wrapped_len) || pos + 2 + IV_LEN + TAG_LEN > len) {
		fprintf(stderr, "azkv-envelope: %s is not an envelope file\n", in_path);
		goto out;
	}
	int alg = env[pos + 1];
	pos += 2;
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)label_len, (const char *)label);

	/* The exact version first (vendor attribute), then the label. */
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE by_kid[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                         {CKA_AZKV_KEY_ID, (void *)kid, kid_len}};
	rv = kid_len ? find_one(s, by_kid, 2, &priv) : CKR_OBJECT_HANDLE_INVALID;
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		rv = find_key(s, CKO_PRIVATE_KEY, name, &priv);
	if (rv != CKR_OK) {
		fail("finding the unwrapping key", rv);
		goto out;
	}
	say("unwrapping key: '%s'%s%.*s", name, kid_len ? " = " : "", (int)kid_len,
	    (const char *)kid);

	CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &secret, sizeof(secret)},
	                       {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                       {CKA_DECRYPT, &yes, sizeof(yes)}};
	CK_MECHANISM m;
	CK_RSA_PKCS_OAEP_PARAMS oaep;
	set_mechanism(alg, &m, &oaep);
	if ((rv = p11->C_UnwrapKey(s, &m, priv, (unsigned char *)wrapped, wrapped_len, tmpl, 3,
	                           &dek)) != CKR_OK) {
		fail("C_UnwrapKey", rv);
		goto out;
	}
	say("C_UnwrapKey: the vault unwrapped the DEK into a sensitive session key");
	size_t aad_len = pos;
	unsigned char *iv = env + pos;
	if ((rv = gcm(s, dek, 0, iv, env, aad_len, env + pos + IV_LEN, len - pos - IV_LEN, &plain,
	              &plain_len)) != CKR_OK) {
		fail("C_Decrypt (AES-GCM)", rv);
		goto out;
	}
	say("C_Decrypt: %lu bytes decrypted and authenticated", (unsigned long)plain_len);
	if (write_file(out_path, plain, plain_len) != 0)
		goto out;
	ret = 0;
out:
	if (dek != CK_INVALID_HANDLE)
		p11->C_DestroyObject(s, dek);
	if (plain != NULL)
		OPENSSL_cleanse(plain, plain_len);
	free(plain);
	free(env);
	return ret;
}

static int cmd_unwrap(CK_SESSION_HANDLE s, const char *label, const char *wrapped_path, int alg,
                      CK_KEY_TYPE kt)
{
	size_t wlen = 0;
	unsigned char *wrapped = read_file(wrapped_path, &wlen);
	unsigned char value[512];
	CK_OBJECT_HANDLE priv, key;
	CK_RV rv;
	if (wrapped == NULL)
		return 1;
	if ((rv = find_key(s, CKO_PRIVATE_KEY, label, &priv)) != CKR_OK) {
		free(wrapped);
		return fail("finding the unwrapping key", rv);
	}
	CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &secret, sizeof(secret)},
	                       {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                       {CKA_SENSITIVE, &no, sizeof(no)},
	                       {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
	CK_MECHANISM m;
	CK_RSA_PKCS_OAEP_PARAMS oaep;
	set_mechanism(alg, &m, &oaep);
	rv = p11->C_UnwrapKey(s, &m, priv, wrapped, wlen, tmpl, 4, &key);
	free(wrapped);
	if (rv != CKR_OK)
		return fail("C_UnwrapKey", rv);
	CK_ATTRIBUTE get = {CKA_VALUE, value, sizeof(value)};
	if ((rv = p11->C_GetAttributeValue(s, key, &get, 1)) != CKR_OK)
		return fail("C_GetAttributeValue(CKA_VALUE)", rv);
	print_hex(value, get.ulValueLen);
	OPENSSL_cleanse(value, sizeof(value));
	return 0;
}

/* RSA modulus and exponent of a DER SubjectPublicKeyInfo. */
static int rsa_parts(const unsigned char *der, size_t len, unsigned char **n, int *n_len,
                     unsigned char **e, int *e_len)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	int ok = pkey != NULL && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &bn_n) &&
	         EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &bn_e);
	if (ok) {
		*n_len = BN_num_bytes(bn_n);
		*e_len = BN_num_bytes(bn_e);
		*n = malloc(*n_len);
		*e = malloc(*e_len);
		ok = *n != NULL && *e != NULL;
		if (ok) {
			BN_bn2bin(bn_n, *n);
			BN_bn2bin(bn_e, *e);
		}
	}
	BN_free(bn_n);
	BN_free(bn_e);
	EVP_PKEY_free(pkey);
	return ok ? 0 : -1;
}

/* A session public key object made from a DER SubjectPublicKeyInfo. */
static CK_RV import_public(CK_SESSION_HANDLE s, const char *pub_path, CK_OBJECT_HANDLE *pub)
{
	size_t der_len = 0;
	unsigned char *der = read_file(pub_path, &der_len), *n = NULL, *e = NULL;
	int n_len, e_len;
	CK_RV rv = CKR_ARGUMENTS_BAD;
	if (der == NULL)
		return rv;
	if (rsa_parts(der, der_len, &n, &n_len, &e, &e_len) != 0) {
		fprintf(stderr, "azkv-envelope: %s is not a DER RSA public key\n", pub_path);
		goto out;
	}
	CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE rsa = CKK_RSA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pub_tmpl[] = {
	        {CKA_CLASS, &pub_cls, sizeof(pub_cls)}, {CKA_KEY_TYPE, &rsa, sizeof(rsa)},
	        {CKA_TOKEN, &no, sizeof(no)},           {CKA_WRAP, &yes, sizeof(yes)},
	        {CKA_MODULUS, n, (CK_ULONG)n_len},      {CKA_PUBLIC_EXPONENT, e, (CK_ULONG)e_len}};
	if ((rv = p11->C_CreateObject(s, pub_tmpl, 6, pub)) != CKR_OK)
		fail("C_CreateObject (public key)", rv);
out:
	free(n);
	free(e);
	free(der);
	return rv;
}

/* Generates an extractable AES key, wraps it with the public key in
 * pub_path (imported as a session object) or with the token's public key
 * labelled label, writes the wrapped key and prints the key's value. */
static int cmd_wrap_new(CK_SESSION_HANDLE s, const char *pub_path, const char *label,
                        const char *out_path, int alg, CK_ULONG bytes)
{
	unsigned char wrapped[1024], value[64];
	CK_ULONG wrapped_len = sizeof(wrapped);
	int ret = 1;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, key = CK_INVALID_HANDLE;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_RV rv =
	        label ? find_key(s, CKO_PUBLIC_KEY, label, &pub) : import_public(s, pub_path, &pub);
	if (rv != CKR_OK)
		return 1;
	CK_ATTRIBUTE key_tmpl[] = {{CKA_VALUE_LEN, &bytes, sizeof(bytes)},
	                           {CKA_TOKEN, &no, sizeof(no)},
	                           {CKA_SENSITIVE, &no, sizeof(no)},
	                           {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	if ((rv = p11->C_GenerateKey(s, &gen, key_tmpl, 4, &key)) != CKR_OK) {
		fail("C_GenerateKey", rv);
		goto out;
	}
	CK_MECHANISM m;
	CK_RSA_PKCS_OAEP_PARAMS oaep;
	set_mechanism(alg, &m, &oaep);
	if ((rv = p11->C_WrapKey(s, &m, pub, key, wrapped, &wrapped_len)) != CKR_OK) {
		fail("C_WrapKey", rv);
		goto out;
	}
	CK_ATTRIBUTE get = {CKA_VALUE, value, sizeof(value)};
	if ((rv = p11->C_GetAttributeValue(s, key, &get, 1)) != CKR_OK) {
		fail("C_GetAttributeValue(CKA_VALUE)", rv);
		goto out;
	}
	if (write_file(out_path, wrapped, wrapped_len) != 0)
		goto out;
	print_hex(value, get.ulValueLen);
	ret = 0;
out:
	OPENSSL_cleanse(value, sizeof(value));
	if (key != CK_INVALID_HANDLE)
		p11->C_DestroyObject(s, key);
	if (label == NULL)
		p11->C_DestroyObject(s, pub);
	return ret;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: azkv-envelope [--module PATH] [--token LABEL] [--pin PIN] [-v] COMMAND\n"
	        "  seal --key LABEL --in FILE --out FILE [--alg ALG]\n"
	        "  open --in FILE --out FILE\n"
	        "  unwrap --key LABEL --wrapped FILE [--alg ALG] [--generic]\n"
	        "  wrap-new (--pubkey DER | --key LABEL) --out FILE [--alg ALG] [--bytes N]\n"
	        "ALG: RSA-OAEP-256 (default), RSA-OAEP, RSA1_5\n"
	        "The module defaults to $AZKV_MODULE.\n");
}

int main(int argc, char **argv)
{
	const char *module = getenv("AZKV_MODULE"), *token = NULL, *pin = NULL;
	const char *key = NULL, *in = NULL, *out = NULL, *wrapped = NULL, *pubkey = NULL;
	const char *cmd = NULL;
	int alg = ALG_OAEP256;
	CK_ULONG bytes = 32;
	CK_KEY_TYPE kt = CKK_AES;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (!strcmp(a, "--module"))
			module = v;
		else if (!strcmp(a, "--token"))
			token = v;
		else if (!strcmp(a, "--pin"))
			pin = v;
		else if (!strcmp(a, "--key"))
			key = v;
		else if (!strcmp(a, "--in"))
			in = v;
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--wrapped"))
			wrapped = v;
		else if (!strcmp(a, "--pubkey"))
			pubkey = v;
		else if (!strcmp(a, "--bytes")) {
			long n;
			if (v != NULL && !whole_number(v, 1, 512, &n)) {
				fprintf(stderr,
				        "azkv-envelope: --bytes \"%.100s\" is not a whole number "
				        "from 1 to 512\n",
				        v);
				return 2;
			}
			bytes = v != NULL ? (CK_ULONG)n : 0;
		} else if (!strcmp(a, "--alg"))
			alg = v ? parse_alg(v) : -1;
		else {
			takes = 0;
			if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
				verbose = 1;
			else if (!strcmp(a, "--generic"))
				kt = CKK_GENERIC_SECRET;
			else if (a[0] != '-' && cmd == NULL)
				cmd = a;
			else {
				usage();
				return 2;
			}
		}
		if (takes) {
			if (v == NULL) {
				usage();
				return 2;
			}
			i++;
		}
	}
	if (cmd == NULL || module == NULL || alg < 0) {
		usage();
		return 2;
	}

	void *dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "azkv-envelope: cannot load %s: %s\n", module, dlerror());
		return 1;
	}
	CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	CK_RV rv;
	if (get_list == NULL || (rv = get_list(&p11)) != CKR_OK) {
		fprintf(stderr, "azkv-envelope: %s is not a PKCS#11 module\n", module);
		return 1;
	}
	CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
	if ((rv = p11->C_Initialize(&init)) != CKR_OK)
		return fail("C_Initialize", rv);

	CK_SESSION_HANDLE s;
	int ret = 1;
	if ((rv = open_session(token, pin, &s)) != CKR_OK) {
		fail("opening a session", rv);
	} else if (!strcmp(cmd, "seal") && key && in && out) {
		ret = cmd_seal(s, key, in, out, alg);
	} else if (!strcmp(cmd, "open") && in && out) {
		ret = cmd_open(s, in, out);
	} else if (!strcmp(cmd, "unwrap") && key && wrapped) {
		ret = cmd_unwrap(s, key, wrapped, alg, kt);
	} else if (!strcmp(cmd, "wrap-new") && (pubkey || key) && out) {
		ret = cmd_wrap_new(s, pubkey, key, out, alg, bytes);
	} else {
		usage();
		ret = 2;
	}
	p11->C_Finalize(NULL);
	dlclose(dl);
	return ret;
}
