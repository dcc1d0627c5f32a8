/* Cross-check of the local AES modes and MACs with SoftHSMv2 (issue 18):
 * the same AES and generic secret key values imported with C_CreateObject
 * into the module and into SoftHSMv2, every new mechanism run the same
 * way on both, and run.sh compares the two outputs line by line.
 *
 *   xcheck_aes MODULE TOKEN_LABEL PIN
 *
 * Output: one line per call or result,
 *   ID = RV [LENGTHS] [out=HEX] [# NOTE]
 * RV the CK_RV in hex. NOTE is "may differ from SoftHSM: WHY" where the
 * two may legitimately answer differently, or "azkv only: WHY" for a line
 * SoftHSMv2 cannot give (a mechanism it does not have). A _GENERAL MAC
 * that the module lacks is made from the full MAC, cut to its length
 * (what _GENERAL is, PKCS#11 3.0), so that the module's own _GENERAL is
 * compared with SoftHSMv2's full MAC. Exit status 0 unless the module or
 * the token could not be set up. Built by run.sh at test time:
 * cc xcheck_aes.c $(pkg-config --cflags p11-kit-1) -ldl. */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CK_FUNCTION_LIST *p11;
static CK_SESSION_HANDLE session;

static void hex(const unsigned char *b, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		printf("%02x", b[i]);
}

/* ID = RV [out=HEX] [# NOTE] */
static void line(const char *id, CK_RV rv, const unsigned char *out, CK_ULONG n, const char *note)
{
	printf("%s = 0x%lx", id, (unsigned long)rv);
	if (rv == CKR_OK && out != NULL) {
		printf(" out=");
		hex(out, n);
	}
	if (note != NULL)
		printf(" # %s", note);
	printf("\n");
}

/* ---------------------------------------------------------- keys */

static CK_OBJECT_HANDLE make_key(const char *id, CK_KEY_TYPE kt, const unsigned char *value,
                                 CK_ULONG len, CK_BBOOL sign)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
	        {CKA_CLASS, &cls, sizeof(cls)},   {CKA_KEY_TYPE, &kt, sizeof(kt)},
	        {CKA_VALUE, (void *)value, len},  {CKA_TOKEN, &no, 1},
	        {CKA_ENCRYPT, &yes, 1},           {CKA_DECRYPT, &yes, 1},
	        {CKA_SIGN, sign ? &yes : &no, 1}, {CKA_VERIFY, &yes, 1},
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	line(id, p11->C_CreateObject(session, t, sizeof(t) / sizeof(t[0]), &h), NULL, 0, NULL);
	return h;
}

/* What a secret key made without usage attributes may do (SoftHSMv2:
 * everything but derive). */
static void key_defaults(void)
{
	static const unsigned char value[32] = {1};
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                    {CKA_VALUE, (void *)value, sizeof(value)},
	                    {CKA_TOKEN, &no, 1}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = p11->C_CreateObject(session, t, 4, &h);
	line("defaults-create", rv, NULL, 0, NULL);
	CK_BBOOL sign = 9, verify = 9;
	CK_ATTRIBUTE get[] = {{CKA_SIGN, &sign, 1}, {CKA_VERIFY, &verify, 1}};
	rv = p11->C_GetAttributeValue(session, h, get, 2);
	printf("defaults-CKA_SIGN-CKA_VERIFY = 0x%lx %d %d\n", (unsigned long)rv, sign, verify);
	p11->C_DestroyObject(session, h);
}

/* ---------------------------------------------------------- ciphers */

typedef CK_RV (*init_fn)(CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
typedef CK_RV (*run_fn)(CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
typedef CK_RV (*final_fn)(CK_SESSION_HANDLE, unsigned char *, CK_ULONG *);

/* One direction's functions. */
typedef struct dir {
	const char *name;
	init_fn init;
	run_fn run, update;
	final_fn final;
} dir;

static dir enc, dec, sig;

/* An init whose answer is the check; an operation it starts is ended (a
 * single-part call ends it, whatever it answers). */
static void init_line(const char *id, const dir *d, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                      const char *note)
{
	static unsigned char block[16];
	unsigned char out[64];
	CK_ULONG n = sizeof(out);
	CK_RV rv = d->init(session, m, key);
	line(id, rv, NULL, 0, note);
	if (rv == CKR_OK)
		d->run(session, block, sizeof(block), out, &n);
}

/* Single-part: a length query, a short buffer, then the call; the result
 * into out (*n its length). query_note: why the query may differ. */
static CK_RV one(const char *id, const dir *d, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                 const unsigned char *in, CK_ULONG len, unsigned char *out, CK_ULONG *n,
                 const char *query_note)
{
	char name[160];
	snprintf(name, sizeof(name), "%s-%s-init", id, d->name);
	CK_RV rv = d->init(session, m, key);
	line(name, rv, NULL, 0, NULL);
	if (rv != CKR_OK)
		return rv;
	CK_ULONG want = 0;
	rv = d->run(session, (unsigned char *)in, len, NULL, &want);
	snprintf(name, sizeof(name), "%s-%s-query", id, d->name);
	printf("%s = 0x%lx len=%lu%s%s\n", name, (unsigned long)rv, (unsigned long)want,
	       query_note ? " # " : "", query_note ? query_note : "");
	if (rv != CKR_OK)
		return rv;
	if (want > 0) {
		CK_ULONG shorter = want - 1;
		snprintf(name, sizeof(name), "%s-%s-short", id, d->name);
		line(name, d->run(session, (unsigned char *)in, len, out, &shorter), NULL, 0, NULL);
	}
	*n = 4096;
	rv = d->run(session, (unsigned char *)in, len, out, n);
	snprintf(name, sizeof(name), "%s-%s", id, d->name);
	line(name, rv, out, *n, NULL);
	return rv;
}

/* Multi-part in parts of the lengths in splits (0-terminated, cycled),
 * each update's output length on the line. */
static void parts(const char *id, const dir *d, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                  const unsigned char *in, CK_ULONG len, const CK_ULONG *splits)
{
	unsigned char out[4096] = {0};
	char name[160], lens[512] = "";
	CK_ULONG done = 0, k = 0;
	snprintf(name, sizeof(name), "%s-%s-parts", id, d->name);
	CK_RV rv = d->init(session, m, key);
	for (CK_ULONG i = 0; rv == CKR_OK && i < len; k++) {
		CK_ULONG part = splits[k] == 0 ? (k = 0, splits[0]) : splits[k];
		part = part > len - i ? len - i : part;
		CK_ULONG n = sizeof(out) - done;
		rv = d->update(session, (unsigned char *)in + i, part, out + done, &n);
		if (rv == CKR_OK) {
			snprintf(lens + strlen(lens), sizeof(lens) - strlen(lens), "%lu>%lu ",
			         (unsigned long)part, (unsigned long)n);
			done += n;
		}
		i += part;
	}
	if (rv == CKR_OK) {
		CK_ULONG n = sizeof(out) - done;
		rv = d->final(session, out + done, &n);
		snprintf(lens + strlen(lens), sizeof(lens) - strlen(lens), "final>%lu",
		         rv == CKR_OK ? (unsigned long)n : 0UL);
		done += n;
	}
	printf("%s = 0x%lx %s", name, (unsigned long)rv, lens);
	if (rv == CKR_OK) {
		printf(" out=");
		hex(out, done);
	}
	printf("\n");
}

/* Encrypts in one part and in parts, then decrypts the result both ways. */
static void round_trip(const char *id, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                       const unsigned char *in, CK_ULONG len, const char *dec_query_note)
{
	static const CK_ULONG splits[] = {1, 15, 17, 31, 0};
	unsigned char ct[4096], pt[4096];
	CK_ULONG n = 0, back = 0;
	if (one(id, &enc, m, key, in, len, ct, &n, NULL) != CKR_OK)
		return;
	parts(id, &enc, m, key, in, len, splits);
	one(id, &dec, m, key, ct, n, pt, &back, dec_query_note);
	parts(id, &dec, m, key, ct, n, splits);
}

/* ---------------------------------------------------------- MACs */

/* Signs in one part and in parts, then verifies: the MAC, a MAC with a
 * bit flipped, a MAC one byte short. emulate: the module lacks m, so the
 * MAC is m's full mechanism's cut to general bytes. */
static void mac(const char *id, CK_MECHANISM *m, CK_OBJECT_HANDLE key, const unsigned char *in,
                CK_ULONG len, int emulate, CK_ULONG general, const char *note)
{
	static const CK_ULONG splits[] = {1, 7, 50, 0};
	const char *only = !emulate && general ? "azkv only: SoftHSMv2 has no _GENERAL MAC" : note;
	unsigned char sig[128], bad[128];
	CK_ULONG n = 0;
	char name[160];
	snprintf(name, sizeof(name), "%s-sign-init", id);
	CK_RV rv = p11->C_SignInit(session, m, key);
	line(name, rv, NULL, 0, note);
	if (rv != CKR_OK)
		return;
	CK_ULONG want = 0;
	rv = p11->C_Sign(session, (unsigned char *)in, len, NULL, &want);
	snprintf(name, sizeof(name), "%s-sign-query", id);
	printf("%s = 0x%lx len=%lu%s%s\n", name, (unsigned long)rv,
	       (unsigned long)(emulate ? general : want), only ? " # " : "", only ? only : "");
	if (rv != CKR_OK)
		return;
	CK_ULONG shorter = want - 1;
	snprintf(name, sizeof(name), "%s-sign-short", id);
	line(name, p11->C_Sign(session, (unsigned char *)in, len, sig, &shorter), NULL, 0, note);
	n = sizeof(sig);
	rv = p11->C_Sign(session, (unsigned char *)in, len, sig, &n);
	snprintf(name, sizeof(name), "%s-sign", id);
	line(name, rv, sig, emulate ? general : n, note);
	/* Multi-part. */
	unsigned char many[128];
	CK_ULONG k = 0, mn = sizeof(many);
	rv = p11->C_SignInit(session, m, key);
	for (CK_ULONG i = 0; rv == CKR_OK && i < len; k++) {
		CK_ULONG part = splits[k] == 0 ? (k = 0, splits[0]) : splits[k];
		part = part > len - i ? len - i : part;
		rv = p11->C_SignUpdate(session, (unsigned char *)in + i, part);
		i += part;
	}
	if (rv == CKR_OK)
		rv = p11->C_SignFinal(session, many, &mn);
	snprintf(name, sizeof(name), "%s-sign-parts", id);
	line(name, rv, many, emulate ? general : mn, note);
	if (emulate)
		return; /* verifying a cut MAC needs the mechanism */
	/* Verify. */
	static const char *const what[] = {"good", "bit-flipped", "one-byte-short"};
	for (int v = 0; v < 3; v++) {
		memcpy(bad, sig, n);
		if (v == 1)
			bad[n / 2] ^= 0x10;
		snprintf(name, sizeof(name), "%s-verify-%s", id, what[v]);
		rv = p11->C_VerifyInit(session, m, key);
		if (rv == CKR_OK)
			rv = p11->C_Verify(session, (unsigned char *)in, len, bad,
			                   v == 2 ? n - 1 : n);
		line(name, rv, NULL, 0, only);
		snprintf(name, sizeof(name), "%s-verify-parts-%s", id, what[v]);
		CK_ULONG first = len < 3 ? len : 3;
		rv = p11->C_VerifyInit(session, m, key);
		if (rv == CKR_OK)
			rv = p11->C_VerifyUpdate(session, (unsigned char *)in, first);
		if (rv == CKR_OK)
			rv = p11->C_VerifyUpdate(session, (unsigned char *)in + first, len - first);
		if (rv == CKR_OK)
			rv = p11->C_VerifyFinal(session, bad, v == 2 ? n - 1 : n);
		line(name, rv, NULL, 0, only);
	}
}

/* A _GENERAL MAC of general bytes: the module's own, or, where it has
 * none, full's cut to that length. */
static void mac_general(const char *id, CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                        CK_MECHANISM_TYPE full, CK_OBJECT_HANDLE key, const unsigned char *in,
                        CK_ULONG len, CK_ULONG general)
{
	CK_MECHANISM_INFO info;
	int has = p11->C_GetMechanismInfo(slot, type, &info) == CKR_OK;
	CK_MECHANISM m = {has ? type : full, has ? &general : NULL, has ? sizeof(general) : 0};
	mac(id, &m, key, in, len, !has, general, NULL);
}

/* ---------------------------------------------------------- setup */

static CK_SLOT_ID find_token(const char *label)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return (CK_SLOT_ID)-1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		char got[33];
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(got, ti.label, 32);
		got[32] = '\0';
		for (int j = 31; j >= 0 && got[j] == ' '; j--)
			got[j] = '\0';
		if (strcmp(got, label) == 0)
			return slots[i];
	}
	return (CK_SLOT_ID)-1;
}

#define WRAPS "may differ from SoftHSM: SoftHSMv2 also wraps keys with it (CKF_WRAP)"

static void mechanism_info(CK_SLOT_ID slot)
{
	static const struct {
		CK_MECHANISM_TYPE type;
		const char *name, *note;
	} mechs[] = {
	        {CKM_AES_ECB, "CKM_AES_ECB", WRAPS},
	        {CKM_AES_CBC, "CKM_AES_CBC", WRAPS},
	        {CKM_AES_CTR, "CKM_AES_CTR", WRAPS},
	        {CKM_AES_CMAC, "CKM_AES_CMAC", NULL},
	        {CKM_SHA_1_HMAC, "CKM_SHA_1_HMAC", NULL},
	        {CKM_SHA224_HMAC, "CKM_SHA224_HMAC", NULL},
	        {CKM_SHA256_HMAC, "CKM_SHA256_HMAC", NULL},
	        {CKM_SHA384_HMAC, "CKM_SHA384_HMAC", NULL},
	        {CKM_SHA512_HMAC, "CKM_SHA512_HMAC", NULL},
	};
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
		CK_MECHANISM_INFO info;
		memset(&info, 0, sizeof(info));
		CK_RV rv = p11->C_GetMechanismInfo(slot, mechs[i].type, &info);
		printf("info-%s = 0x%lx min=%lu max=%lu flags=0x%lx%s%s\n", mechs[i].name,
		       (unsigned long)rv, (unsigned long)info.ulMinKeySize,
		       (unsigned long)info.ulMaxKeySize, (unsigned long)info.flags,
		       mechs[i].note ? " # " : "", mechs[i].note ? mechs[i].note : "");
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: xcheck_aes MODULE TOKEN_LABEL PIN\n");
		return 2;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	CK_C_GetFunctionList get =
	        lib != NULL ? (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList") : NULL;
	if (get == NULL || get(&p11) != CKR_OK || p11->C_Initialize(NULL) != CKR_OK) {
		fprintf(stderr, "%s: cannot load or initialize (%s)\n", argv[1],
		        lib == NULL ? dlerror() : "C_GetFunctionList or C_Initialize failed");
		return 2;
	}
	CK_SLOT_ID slot = find_token(argv[2]);
	CK_RV rv =
	        p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
	if (rv == CKR_OK)
		rv = p11->C_Login(session, CKU_USER, (CK_UTF8CHAR *)argv[3], strlen(argv[3]));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		fprintf(stderr, "token %s: no session or login (0x%lx)\n", argv[2],
		        (unsigned long)rv);
		return 2;
	}
	enc = (dir){"encrypt", p11->C_EncryptInit, p11->C_Encrypt, p11->C_EncryptUpdate,
	            p11->C_EncryptFinal};
	dec = (dir){"decrypt", p11->C_DecryptInit, p11->C_Decrypt, p11->C_DecryptUpdate,
	            p11->C_DecryptFinal};
	sig = (dir){"sign", p11->C_SignInit, p11->C_Sign, NULL, p11->C_SignFinal};

	mechanism_info(slot);
	key_defaults();

	/* The keys: SP 800-38A's AES-128 and AES-256 keys, generic secrets. */
	static const unsigned char aes128_v[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	                                           0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
	static const unsigned char aes256_v[32] = {0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe,
	                                           0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
	                                           0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7,
	                                           0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4};
	unsigned char gen_v[131], data[100];
	for (size_t i = 0; i < sizeof(gen_v); i++)
		gen_v[i] = (unsigned char)(0xa0 + i * 7);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 13 + 1);
	CK_OBJECT_HANDLE aes128 = make_key("key-aes128", CKK_AES, aes128_v, 16, CK_TRUE);
	CK_OBJECT_HANDLE aes256 = make_key("key-aes256", CKK_AES, aes256_v, 32, CK_TRUE);
	CK_OBJECT_HANDLE gen20 = make_key("key-generic20", CKK_GENERIC_SECRET, gen_v, 20, CK_TRUE);
	CK_OBJECT_HANDLE gen64 = make_key("key-generic64", CKK_GENERIC_SECRET, gen_v, 64, CK_TRUE);
	CK_OBJECT_HANDLE gen131 =
	        make_key("key-generic131", CKK_GENERIC_SECRET, gen_v, 131, CK_TRUE);
	CK_OBJECT_HANDLE nosign =
	        make_key("key-generic64-no-sign", CKK_GENERIC_SECRET, gen_v, 64, CK_FALSE);
	CK_OBJECT_HANDLE gone = make_key("key-destroyed", CKK_AES, aes128_v, 16, CK_TRUE);
	line("key-destroyed-destroy", p11->C_DestroyObject(session, gone), NULL, 0, NULL);

	/* ---- the block modes, both keys */
	unsigned char iv[16], ctr_bytes[sizeof(CK_AES_CTR_PARAMS)];
	for (int i = 0; i < 16; i++)
		iv[i] = (unsigned char)i;
	CK_AES_CTR_PARAMS ctr = {128,
	                         {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
	                          0xfb, 0xfc, 0xfd, 0xfe, 0xff}};
	CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0}, cbc = {CKM_AES_CBC, iv, 16},
	             cbc_pad = {CKM_AES_CBC_PAD, iv, 16}, ctr_m = {CKM_AES_CTR, &ctr, sizeof(ctr)};
#define NO_PARAM                                                                                   \
	"may differ from SoftHSM: a missing or short parameter is CKR_MECHANISM_PARAM_INVALID "    \
	"here, "                                                                                   \
	"CKR_ARGUMENTS_BAD in SoftHSMv2"
#define IV_LEN                                                                                     \
	"may differ from SoftHSM: an IV of the wrong length is CKR_MECHANISM_PARAM_INVALID "       \
	"(PKCS#11: "                                                                               \
	"the parameter is at fault), CKR_MECHANISM_INVALID in SoftHSMv2"
#define GONE                                                                                       \
	"may differ from SoftHSM: a key handle that is no object is CKR_KEY_HANDLE_INVALID "       \
	"(PKCS#11 "                                                                                \
	"3.0: C_EncryptInit, C_SignInit), CKR_OBJECT_HANDLE_INVALID in SoftHSMv2"
	const char *pad_query = "may differ from SoftHSM: a length query may answer more than the "
	                        "plaintext needs (PKCS#11 3.0 5.2)";
	const struct {
		const char *name;
		CK_OBJECT_HANDLE key;
	} aes_keys[] = {{"aes128", aes128}, {"aes256", aes256}};
	char id[128];
	for (int k = 0; k < 2; k++) {
		snprintf(id, sizeof(id), "ECB-%s-64", aes_keys[k].name);
		round_trip(id, &ecb, aes_keys[k].key, data, 64, NULL);
		snprintf(id, sizeof(id), "CBC-%s-64", aes_keys[k].name);
		round_trip(id, &cbc, aes_keys[k].key, data, 64, NULL);
		snprintf(id, sizeof(id), "CBC_PAD-%s-37", aes_keys[k].name);
		round_trip(id, &cbc_pad, aes_keys[k].key, data, 37, pad_query);
		snprintf(id, sizeof(id), "CTR-%s-37", aes_keys[k].name);
		round_trip(id, &ctr_m, aes_keys[k].key, data, 37, NULL);
		snprintf(id, sizeof(id), "CTR-%s-100", aes_keys[k].name);
		round_trip(id, &ctr_m, aes_keys[k].key, data, 100, NULL);
	}

	/* ---- lengths ECB and CBC cannot take */
	unsigned char out[4096];
	CK_ULONG n;
	static const CK_ULONG odd[] = {20, 0};
	one("ECB-17", &enc, &ecb, aes128, data, 17, out, &n, NULL);
	one("ECB-17", &dec, &ecb, aes128, data, 17, out, &n, NULL);
	one("CBC-17", &enc, &cbc, aes128, data, 17, out, &n, NULL);
	one("CBC-17", &dec, &cbc, aes128, data, 17, out, &n, NULL);
	one("ECB-0", &enc, &ecb, aes128, data, 0, out, &n, NULL);
	parts("ECB-20", &enc, &ecb, aes128, data, 20, odd);
	parts("CBC-20", &dec, &cbc, aes128, data, 20, odd);

	/* ---- bad parameters */
	static const CK_ULONG iv_lens[] = {0, 8, 15, 17};
	for (size_t i = 0; i < sizeof(iv_lens) / sizeof(iv_lens[0]); i++) {
		CK_MECHANISM m = {CKM_AES_CBC, iv_lens[i] ? iv : NULL, iv_lens[i]};
		const char *note = iv_lens[i] ? IV_LEN : NO_PARAM;
		snprintf(id, sizeof(id), "CBC-iv%lu-encrypt-init", (unsigned long)iv_lens[i]);
		init_line(id, &enc, &m, aes128, note);
		m.mechanism = CKM_AES_CBC_PAD;
		snprintf(id, sizeof(id), "CBC_PAD-iv%lu-decrypt-init", (unsigned long)iv_lens[i]);
		init_line(id, &dec, &m, aes128, note);
	}
	static const CK_ULONG bad_bits[] = {0, 129};
	for (size_t i = 0; i < 2; i++) {
		CK_AES_CTR_PARAMS p = ctr;
		p.ulCounterBits = bad_bits[i];
		CK_MECHANISM m = {CKM_AES_CTR, &p, sizeof(p)};
		snprintf(id, sizeof(id), "CTR-bits%lu-encrypt-init", (unsigned long)bad_bits[i]);
		init_line(id, &enc, &m, aes128, NULL);
	}
	memcpy(ctr_bytes, &ctr, sizeof(ctr));
	CK_MECHANISM short_ctr = {CKM_AES_CTR, ctr_bytes, sizeof(ctr) - 1};
	init_line("CTR-short-param-encrypt-init", &enc, &short_ctr, aes128, NO_PARAM);
	CK_MECHANISM ecb_iv = {CKM_AES_ECB, iv, 16};
	init_line("ECB-with-iv-encrypt-init", &enc, &ecb_iv, aes128, NULL);

	/* ---- CTR near the wrap of its counter bits */
	CK_AES_CTR_PARAMS near = {8, {0}};
	near.cb[15] = 0xfe; /* two blocks left */
	CK_MECHANISM near_m = {CKM_AES_CTR, &near, sizeof(near)};
	static const CK_ULONG sixteens[] = {16, 0}, fives[] = {5, 0};
	one("CTR-bits8-fe-32", &enc, &near_m, aes128, data, 32, out, &n, NULL);
	one("CTR-bits8-fe-33", &enc, &near_m, aes128, data, 33, out, &n, NULL);
	one("CTR-bits8-fe-33", &dec, &near_m, aes128, data, 33, out, &n, NULL);
	parts("CTR-bits8-fe-32", &enc, &near_m, aes128, data, 32, fives);
	parts("CTR-bits8-fe-48", &enc, &near_m, aes128, data, 48, sixteens);
	near.ulCounterBits = 16; /* 0x00fe of 0x10000 */
	one("CTR-bits16-fe-64", &enc, &near_m, aes128, data, 64, out, &n, NULL);
	memset(near.cb, 0xff, 16);
	near.ulCounterBits = 128;
	one("CTR-bits128-ff-16", &enc, &near_m, aes128, data, 16, out, &n, NULL);
	one("CTR-bits128-ff-17", &enc, &near_m, aes128, data, 17, out, &n, NULL);

	/* ---- key handles and types */
	init_line("ECB-destroyed-key-encrypt-init", &enc, &ecb, gone, GONE);
	init_line("CTR-destroyed-key-decrypt-init", &dec, &ctr_m, gone, GONE);
	init_line("ECB-generic-key-encrypt-init", &enc, &ecb, gen64, NULL);
	init_line("CBC-generic-key-decrypt-init", &dec, &cbc, gen64, NULL);

	/* ---- MACs */
	CK_MECHANISM cmac = {CKM_AES_CMAC, NULL, 0};
	mac("CMAC-aes128", &cmac, aes128, data, 100, 0, 0, NULL);
	mac("CMAC-aes256", &cmac, aes256, data, 64, 0, 0, NULL);
	mac("CMAC-aes128-empty", &cmac, aes128, data, 0, 0, 0, NULL);
	static const struct {
		CK_MECHANISM_TYPE type, general;
		const char *name;
	} hmacs[] = {{CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, "HMAC-SHA1"},
	             {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, "HMAC-SHA224"},
	             {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, "HMAC-SHA256"},
	             {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, "HMAC-SHA384"},
	             {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, "HMAC-SHA512"}};
	for (size_t i = 0; i < sizeof(hmacs) / sizeof(hmacs[0]); i++) {
		CK_MECHANISM m = {hmacs[i].type, NULL, 0};
		snprintf(id, sizeof(id), "%s-generic64", hmacs[i].name);
		mac(id, &m, gen64, data, 100, 0, 0, NULL);
		snprintf(id, sizeof(id), "%s-generic131", hmacs[i].name);
		mac(id, &m, gen131, data, 100, 0, 0, NULL);
		snprintf(id, sizeof(id), "%s_GENERAL-10-generic64", hmacs[i].name);
		mac_general(id, slot, hmacs[i].general, hmacs[i].type, gen64, data, 100, 10);
	}
	mac_general("CMAC_GENERAL-8-aes128", slot, CKM_AES_CMAC_GENERAL, CKM_AES_CMAC, aes128, data,
	            100, 8);
	CK_MECHANISM hmac256 = {CKM_SHA256_HMAC, NULL, 0};
	mac("HMAC-SHA256-generic20-too-short", &hmac256, gen20, data, 100, 0, 0, NULL);
	mac("HMAC-SHA256-aes256", &hmac256, aes256, data, 100, 0, 0,
	    "may differ from SoftHSM: HMAC takes AES keys here (issue 18); SoftHSMv2 only "
	    "generic secrets");
	mac("HMAC-SHA256-no-CKA_SIGN", &hmac256, nosign, data, 100, 0, 0, NULL);
	init_line("HMAC-SHA256-destroyed-key-sign-init", &sig, &hmac256, gone, GONE);
	init_line("CMAC-destroyed-key-sign-init", &sig, &cmac, gone, GONE);
	init_line("CMAC-generic-key-sign-init", &sig, &cmac, gen64, NULL);

	p11->C_CloseSession(session);
	p11->C_Finalize(NULL);
	return 0;
}
