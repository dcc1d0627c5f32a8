/* Feeds PKCS#11 attribute templates to the module, loaded in-process (the
 * module's own code, libazkvp11.la) and initialised from a configuration
 * that needs no network: one vault, a client secret, and every request
 * sent to 127.0.0.1:9 should one ever be made (none is: only session keys
 * are used). Each input is one call after a fresh C_Initialize:
 *
 *   byte 0  the call: C_CreateObject, C_UnwrapKey (with a session AES key,
 *           CKM_AES_KEY_WRAP_PAD, of a wrapped 32-byte key), C_SetAttributeValue
 *           or C_CopyObject (on a session AES key), C_GenerateKey
 *   byte 1  flags: 1 puts a valid base template before the fuzzed one (the
 *           last occurrence of a type wins), 2 reads the new object back
 *           with C_GetAttributeValue through the same fuzzed template
 *   then    attributes, each a type byte (an index into interesting[], or
 *           4 raw bytes) and a kind byte: NULL pValue with a length (also
 *           a huge one), a CK_BBOOL, a CK_ULONG, or raw bytes of a length
 *           the input gives (each in its own allocation, so that a read
 *           past it is caught). */
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "http.h"
#include "pkcs11_v3.h"

#define MAX_ATTRS 24

static const CK_ATTRIBUTE_TYPE interesting[] = {
        CKA_CLASS,
        CKA_TOKEN,
        CKA_PRIVATE,
        CKA_LABEL,
        CKA_VALUE,
        CKA_KEY_TYPE,
        CKA_ID,
        CKA_SENSITIVE,
        CKA_ENCRYPT,
        CKA_DECRYPT,
        CKA_WRAP,
        CKA_UNWRAP,
        CKA_SIGN,
        CKA_VERIFY,
        CKA_DERIVE,
        CKA_START_DATE,
        CKA_END_DATE,
        CKA_VALUE_LEN,
        CKA_EXTRACTABLE,
        CKA_LOCAL,
        CKA_NEVER_EXTRACTABLE,
        CKA_ALWAYS_SENSITIVE,
        CKA_KEY_GEN_MECHANISM,
        CKA_MODIFIABLE,
        CKA_COPYABLE,
        CKA_DESTROYABLE,
        CKA_CHECK_VALUE,
        CKA_WRAP_WITH_TRUSTED,
        CKA_TRUSTED,
        CKA_UNIQUE_ID,
        CKA_APPLICATION,
        CKA_OBJECT_ID,
        CKA_MODULUS,
        CKA_EC_PARAMS,
        CKA_WRAP_TEMPLATE,
        CKA_UNWRAP_TEMPLATE,
        CKA_ALLOWED_MECHANISMS,
        CKA_VENDOR_DEFINED,
};
#define N_INTERESTING (sizeof(interesting) / sizeof(interesting[0]))

enum { OP_CREATE, OP_UNWRAP, OP_SET, OP_COPY, OP_GENERATE, N_OPS };
enum { FLAG_BASE = 1, FLAG_READ_BACK = 2 };

static const unsigned char kek_value[32] = {
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
};
static unsigned char wrapped[64]; /* a 32-byte key under kek_value, RFC 5649 */
static CK_ULONG wrapped_len;

static CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
static CK_KEY_TYPE aes_type = CKK_AES;
static CK_BBOOL yes = CK_TRUE;
static CK_ULONG len32 = 32;

/* The input, read front to back; past its end every read gives 0. */
typedef struct reader {
	const uint8_t *p;
	size_t left;
} reader;

static uint8_t next_byte(reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

static void *dup_bytes(reader *r, size_t len)
{
	unsigned char *v = malloc(len ? len : 1);

	if (!v)
		abort();
	for (size_t i = 0; i < len; i++)
		v[i] = next_byte(r);
	return v;
}

/* Decodes the fuzzed attributes after n base entries of t; returns the
 * count. Values are allocated one by one (free_template frees them). */
static CK_ULONG read_template(reader *r, CK_ATTRIBUTE *t, CK_ULONG n, int *owned)
{
	while (r->left > 0 && n < MAX_ATTRS) {
		uint8_t sel = next_byte(r);
		uint8_t kind = next_byte(r);
		CK_ATTRIBUTE *a = &t[n];

		if (sel % (N_INTERESTING + 1) < N_INTERESTING) {
			a->type = interesting[sel % (N_INTERESTING + 1)];
		} else {
			a->type = 0;
			for (int i = 0; i < 4; i++)
				a->type = (a->type << 8) | next_byte(r);
		}
		owned[n] = 1;
		switch (kind & 3) {
		case 0: /* NULL with a length: a caller's mistake to refuse cleanly */
			a->pValue = NULL;
			a->ulValueLen = kind & 4 ? (CK_ULONG)-1 : next_byte(r);
			owned[n] = 0;
			break;
		case 1:
			a->ulValueLen = sizeof(CK_BBOOL);
			a->pValue = dup_bytes(r, a->ulValueLen);
			break;
		case 2:
			a->ulValueLen = sizeof(CK_ULONG);
			a->pValue = dup_bytes(r, a->ulValueLen);
			break;
		default:
			a->ulValueLen = next_byte(r);
			a->pValue = dup_bytes(r, a->ulValueLen);
			break;
		}
		n++;
	}
	return n;
}

static void free_template(CK_ATTRIBUTE *t, const int *owned, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (owned[i])
			free(t[i].pValue);
}

/* A session AES key the tests use as KEK and as the object to change. */
static CK_OBJECT_HANDLE make_kek(CK_SESSION_HANDLE s)
{
	CK_ATTRIBUTE t[] = {
	        {CKA_CLASS, &secret_class, sizeof(secret_class)},
	        {CKA_KEY_TYPE, &aes_type, sizeof(aes_type)},
	        {CKA_VALUE, (void *)kek_value, sizeof(kek_value)},
	        {CKA_WRAP, &yes, sizeof(yes)},
	        {CKA_UNWRAP, &yes, sizeof(yes)},
	        {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	        {CKA_MODIFIABLE, &yes, sizeof(yes)},
	        {CKA_COPYABLE, &yes, sizeof(yes)},
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	if (C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h) != CKR_OK)
		abort();
	return h;
}

static CK_SESSION_HANDLE start(void)
{
	CK_SESSION_HANDLE s;

	if (C_Initialize(NULL) != CKR_OK ||
	    C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) != CKR_OK)
		abort();
	return s;
}

static char dir[] = "/tmp/azkv-fuzz-XXXXXX";
static char path[sizeof(dir) + 16];

static void remove_config(void)
{
	unlink(path);
	rmdir(dir);
}

static void write_config(void)
{
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs("{\"vaults\": [{\"url\": \"https://fuzz.vault.azure.net\"}],\n"
	      " \"credential\": {\"type\": \"client_secret\",\n"
	      "   \"tenant_id\": \"00000000-0000-0000-0000-000000000001\",\n"
	      "   \"client_id\": \"00000000-0000-0000-0000-000000000002\",\n"
	      "   \"client_secret\": \"not-a-secret\"},\n"
	      " \"http\": {\"connect_to\": \"127.0.0.1:9\", \"max_retries\": 0}}\n",
	      f);
	if (fclose(f) != 0)
		abort();
	setenv("AZKV_PKCS11_CONFIG", path, 1);
	setenv("AZKV_PKCS11_CONNECT_TO", "127.0.0.1:9", 1);
	/* Read at each C_Initialize; removed when the fuzzer exits. */
	atexit(remove_config);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	CK_ATTRIBUTE target[] = {
	        {CKA_CLASS, &secret_class, sizeof(secret_class)},
	        {CKA_KEY_TYPE, &aes_type, sizeof(aes_type)},
	        {CKA_VALUE, (void *)"0123456789abcdef0123456789abcdef", 32},
	        {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	};
	CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_OBJECT_HANDLE kek, key;
	CK_SESSION_HANDLE s;
	azkv_err err;

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	write_config();
	/* One reference to curl's global state for the whole run, so that each
	 * C_Finalize does not tear it down and each C_Initialize set it up. */
	if (azkv_http_global_init(&err) != AZKV_OK)
		abort();
	s = start();
	kek = make_kek(s);
	wrapped_len = sizeof(wrapped);
	if (C_CreateObject(s, target, sizeof(target) / sizeof(target[0]), &key) != CKR_OK ||
	    C_WrapKey(s, &kwp, kek, key, wrapped, &wrapped_len) != CKR_OK ||
	    C_Finalize(NULL) != CKR_OK)
		abort();
	return 0;
}

/* The session inputs run in. The module's handle tables only grow while
 * it is initialised, so it starts afresh every RESTART_EVERY inputs (not
 * at each: C_Initialize costs more than most calls tried). */
#define RESTART_EVERY 20000
static CK_SESSION_HANDLE session(void)
{
	static CK_SESSION_HANDLE s;
	static unsigned long runs;

	if (runs++ % RESTART_EVERY == 0) {
		if (runs > 1 && C_Finalize(NULL) != CKR_OK)
			abort();
		s = start();
	}
	return s;
}

/* C_GetAttributeValue through the fuzzed template, with buffers of the
 * lengths it states (NULL where it has NULL: a length query). */
static void read_back(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	CK_ATTRIBUTE out[MAX_ATTRS];

	for (CK_ULONG i = 0; i < n; i++) {
		out[i].type = t[i].type;
		out[i].ulValueLen = t[i].ulValueLen;
		out[i].pValue = t[i].pValue && t[i].ulValueLen ? malloc(t[i].ulValueLen) : NULL;
	}
	C_GetAttributeValue(s, h, out, n);
	for (CK_ULONG i = 0; i < n; i++)
		free(out[i].pValue);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reader r = {data, size};
	uint8_t op = next_byte(&r) % N_OPS;
	uint8_t flags = next_byte(&r);
	CK_ATTRIBUTE t[MAX_ATTRS];
	int owned[MAX_ATTRS] = {0};
	CK_ULONG n = 0, base = 0;
	CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_MECHANISM keygen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_OBJECT_HANDLE kek, h = CK_INVALID_HANDLE;
	CK_SESSION_HANDLE s = session();
	CK_RV rv = CKR_OK;

	kek = make_kek(s);
	if (flags & FLAG_BASE) {
		t[base++] = (CK_ATTRIBUTE){CKA_CLASS, &secret_class, sizeof(secret_class)};
		t[base++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &aes_type, sizeof(aes_type)};
		if (op == OP_CREATE)
			t[base++] = (CK_ATTRIBUTE){CKA_VALUE, (void *)kek_value, sizeof(kek_value)};
		if (op == OP_GENERATE)
			t[base++] = (CK_ATTRIBUTE){CKA_VALUE_LEN, &len32, sizeof(len32)};
	}
	n = read_template(&r, t, base, owned);
	switch (op) {
	case OP_CREATE:
		rv = C_CreateObject(s, t, n, &h);
		break;
	case OP_UNWRAP:
		rv = C_UnwrapKey(s, &kwp, kek, wrapped, wrapped_len, t, n, &h);
		break;
	case OP_SET:
		rv = C_SetAttributeValue(s, kek, t, n);
		h = kek;
		break;
	case OP_COPY:
		rv = C_CopyObject(s, kek, t, n, &h);
		break;
	default:
		rv = C_GenerateKey(s, &keygen, t, n, &h);
		break;
	}
	if (rv == CKR_OK && (flags & FLAG_READ_BACK))
		read_back(s, h, t, n);
	free_template(t, owned, n);
	/* What the call made goes, so that the next input starts alike. */
	if (h != CK_INVALID_HANDLE && h != kek)
		C_DestroyObject(s, h);
	if (C_DestroyObject(s, kek) != CKR_OK)
		abort();
	return 0;
}
