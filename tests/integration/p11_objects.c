/* Object management on session keys and vault keys: C_CreateObject,
 * C_CopyObject, C_SetAttributeValue and the extractability rules. Run by
 * run.sh with AZKV_MODULE and AZKV_PKCS11_CONFIG set; the vault 'demo' has
 * an RSA key 'cmk'. */
#include <malloc.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_load.h"
#include "tap.h"

static CK_FUNCTION_LIST *p11;
static const unsigned char KEY[32] = "0123456789abcdef0123456789abcdef";

static CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0xff;
	CK_ATTRIBUTE a = {type, &v, sizeof(v)};
	return p11->C_GetAttributeValue(s, h, &a, 1) == CKR_OK ? v : 0xff;
}

/* An envelope service makes and destroys a session key per object it
 * reads: the module's memory must not grow with the keys made, only with
 * those alive. The heap this process has in use (the module's included)
 * after CHURN more keys made and destroyed, one at a time; before handles'
 * slots were reused it grew by a pointer per key (CHURN * 8 bytes). */
#define CHURN 20000

/* Bytes allocated: from the heap's arenas and mmap()ed (large blocks). */
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}

/* Runs step CHURN + 100 times (each makes one thing and drops it, and
 * gives its handle); checks that the heap does not grow with them. The
 * first handle made, or CK_INVALID_HANDLE when a step failed. */
static CK_ULONG heap_churn(CK_RV (*step)(void *ctx, CK_ULONG *h), void *ctx, const char *what)
{
	CK_ULONG first = CK_INVALID_HANDLE, h = CK_INVALID_HANDLE;
	size_t before = 0;
	int ok = 1;
	for (int i = 0; ok && i < CHURN + 100; i++) {
		if (i == 100)
			before = heap_in_use(); /* past the warm-up */
		ok = step(ctx, &h) == CKR_OK;
		if (i == 0)
			first = h;
	}
	size_t after = heap_in_use();
	CHECK(ok, "20,000 %s made and dropped", what);
	printf("# heap in use: %zu bytes before, %zu after\n", before, after);
	CHECK(after < before + 64 * 1024, "the heap does not grow with the %s made and dropped",
	      what);
	return ok ? first : CK_INVALID_HANDLE;
}

typedef struct key_churn {
	CK_SESSION_HANDLE s;
	CK_ATTRIBUTE *create;
} key_churn;

static CK_RV key_step(void *ctx, CK_ULONG *h)
{
	const key_churn *k = ctx;
	CK_RV rv = p11->C_CreateObject(k->s, k->create, 5, h);
	return rv == CKR_OK ? p11->C_DestroyObject(k->s, *h) : rv;
}

static void churn(CK_SESSION_HANDLE s, CK_ATTRIBUTE *create)
{
	key_churn k = {s, create};
	CK_OBJECT_HANDLE first = heap_churn(key_step, &k, "AES keys");
	CK_ATTRIBUTE label = {CKA_LABEL, NULL, 0};
	CHECK_RV(p11->C_GetAttributeValue(s, first, &label, 1), CKR_OBJECT_HANDLE_INVALID,
	         "the first one's handle stays invalid, its slot reused since");
}

static CK_RV session_step(void *ctx, CK_ULONG *h)
{
	CK_RV rv = p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, h);
	return rv == CKR_OK ? p11->C_CloseSession(*h) : rv;
}

/* Sessions too: a service may open a session per request. Before their
 * handle slots were reused, sessions' table grew by a pointer each. */
static void session_churn(void)
{
	CK_SESSION_HANDLE first = heap_churn(session_step, NULL, "sessions");
	CK_SESSION_INFO info;
	CHECK_RV(p11->C_GetSessionInfo(first, &info), CKR_SESSION_HANDLE_INVALID,
	         "the first session's handle stays invalid, its slot reused since");
	CHECK_RV(p11->C_CloseSession(first), CKR_SESSION_HANDLE_INVALID,
	         "C_CloseSession of a closed session");
}

/* C_CloseAllSessions closes every session of the slot (s among them), with
 * their session objects and the login; their handles stay invalid after
 * new sessions reuse their slots. */
static void close_all_sessions(CK_SESSION_HANDLE s, CK_ATTRIBUTE *create)
{
	CK_SESSION_HANDLE open[4] = {s}, again;
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO info;
	int ok = 1;
	for (int i = 1; i < 4; i++)
		ok &= p11->C_OpenSession(0, CKF_SERIAL_SESSION | (i % 2 ? CKF_RW_SESSION : 0), NULL,
		                         NULL, &open[i]) == CKR_OK;
	CHECK(ok && p11->C_CreateObject(open[2], create, 5, &key) == CKR_OK &&
	              p11->C_Login(open[1], CKU_USER, (CK_UTF8CHAR *)"", 0) == CKR_OK,
	      "three more sessions, a session key in one, logged in");
	CHECK(p11->C_GetTokenInfo(0, &ti) == CKR_OK && ti.ulSessionCount == 4 &&
	              ti.ulRwSessionCount == 2,
	      "C_GetTokenInfo counts 4 sessions, 2 read/write");
	CHECK_RV(p11->C_CloseAllSessions(0), CKR_OK, "C_CloseAllSessions");
	CHECK(p11->C_GetTokenInfo(0, &ti) == CKR_OK && ti.ulSessionCount == 0 &&
	              ti.ulRwSessionCount == 0,
	      "C_GetTokenInfo counts none after");
	ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= p11->C_GetSessionInfo(open[i], &info) == CKR_SESSION_HANDLE_INVALID;
	CHECK(ok, "every closed session's handle is CKR_SESSION_HANDLE_INVALID");
	ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &again) == CKR_OK &&
		      again != open[0] && again != open[1] && again != open[2] && again != open[3];
	CHECK(ok, "new sessions get handles none of the closed ones had");
	ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= p11->C_GetSessionInfo(open[i], &info) == CKR_SESSION_HANDLE_INVALID;
	CHECK(ok, "the closed sessions' handles stay invalid after their slots are reused");
	CK_ATTRIBUTE label = {CKA_LABEL, NULL, 0};
	CHECK_RV(p11->C_GetAttributeValue(again, key, &label, 1), CKR_OBJECT_HANDLE_INVALID,
	         "the session key went with its session");
	CHECK(p11->C_GetSessionInfo(again, &info) == CKR_OK && info.state == CKS_RO_PUBLIC_SESSION,
	      "the token was logged out with its last session");
	CHECK_RV(p11->C_CloseAllSessions(0), CKR_OK, "C_CloseAllSessions of the new ones");
	CHECK_RV(p11->C_CloseAllSessions(99), CKR_SLOT_ID_INVALID,
	         "C_CloseAllSessions of a slot that does not exist");
}

int main(void)
{
	if ((p11 = p11_load("p11_objects")) == NULL || p11->C_Initialize(NULL) != CKR_OK) {
		fprintf(stderr, "p11_objects: cannot load and initialise AZKV_MODULE\n");
		return 2;
	}
	CK_SESSION_HANDLE s;
	p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);

	CK_OBJECT_CLASS secret = CKO_SECRET_KEY, pub = CKO_PUBLIC_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE create[] = {{CKA_CLASS, &secret, sizeof(secret)},
	                         {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                         {CKA_VALUE, (void *)KEY, sizeof(KEY)},
	                         {CKA_SENSITIVE, &no, sizeof(no)},
	                         {CKA_LABEL, "imported", 8}};
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE, c = CK_INVALID_HANDLE, tmp;
	CHECK_RV(p11->C_CreateObject(s, create, 5, &k), CKR_OK, "C_CreateObject: an AES key");
	unsigned char value[32];
	CK_ATTRIBUTE read = {CKA_VALUE, value, sizeof(value)};
	CHECK(p11->C_GetAttributeValue(s, k, &read, 1) == CKR_OK && !memcmp(value, KEY, 32),
	      "the created key's value reads back (not sensitive, extractable)");
	CHECK(get_bool(s, k, CKA_LOCAL) == CK_FALSE &&
	              get_bool(s, k, CKA_ALWAYS_SENSITIVE) == CK_FALSE,
	      "a created key is neither local nor always sensitive");

	CHECK_RV(p11->C_CreateObject(s, create, 2, &tmp), CKR_TEMPLATE_INCOMPLETE,
	         "C_CreateObject without CKA_VALUE");
	CK_ATTRIBUTE pubkey[] = {{CKA_CLASS, &pub, sizeof(pub)}};
	CHECK_RV(p11->C_CreateObject(s, pubkey, 1, &tmp), CKR_ATTRIBUTE_VALUE_INVALID,
	         "C_CreateObject of a public key");
	CK_ATTRIBUTE short_key[] = {{CKA_CLASS, &secret, sizeof(secret)},
	                            {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                            {CKA_VALUE, (void *)KEY, 20}};
	CHECK_RV(p11->C_CreateObject(s, short_key, 3, &tmp), CKR_KEY_SIZE_RANGE,
	         "C_CreateObject of a 20-byte AES key");
	CK_ATTRIBUTE on_token[] = {{CKA_CLASS, &secret, sizeof(secret)},
	                           {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                           {CKA_VALUE, (void *)KEY, 32},
	                           {CKA_TOKEN, &yes, sizeof(yes)}};
	CHECK_RV(p11->C_CreateObject(s, on_token, 4, &tmp), CKR_ATTRIBUTE_VALUE_INVALID,
	         "C_CreateObject of a token object");
	unsigned char bad_check[3] = {0, 0, 0};
	CK_ATTRIBUTE checked[] = {{CKA_CLASS, &secret, sizeof(secret)},
	                          {CKA_KEY_TYPE, &aes, sizeof(aes)},
	                          {CKA_VALUE, (void *)KEY, 32},
	                          {CKA_CHECK_VALUE, bad_check, 3}};
	CHECK_RV(p11->C_CreateObject(s, checked, 4, &tmp), CKR_ATTRIBUTE_VALUE_INVALID,
	         "C_CreateObject with a wrong CKA_CHECK_VALUE");

	/* Protections only move one way. */
	CK_ATTRIBUTE make_sensitive = {CKA_SENSITIVE, &yes, sizeof(yes)};
	CHECK_RV(p11->C_SetAttributeValue(s, k, &make_sensitive, 1), CKR_OK,
	         "C_SetAttributeValue: CKA_SENSITIVE to TRUE");
	read.ulValueLen = sizeof(value);
	CHECK_RV(p11->C_GetAttributeValue(s, k, &read, 1), CKR_ATTRIBUTE_SENSITIVE,
	         "the value is now sensitive");
	CK_ATTRIBUTE make_readable = {CKA_SENSITIVE, &no, sizeof(no)};
	CHECK_RV(p11->C_SetAttributeValue(s, k, &make_readable, 1), CKR_ATTRIBUTE_READ_ONLY,
	         "C_SetAttributeValue: CKA_SENSITIVE back to FALSE");
	CK_ATTRIBUTE lock[] = {{CKA_EXTRACTABLE, &no, sizeof(no)}, {CKA_LABEL, "renamed", 7}};
	CHECK_RV(p11->C_SetAttributeValue(s, k, lock, 2), CKR_OK,
	         "C_SetAttributeValue: CKA_EXTRACTABLE to FALSE and a new label");
	CK_ATTRIBUTE unlock = {CKA_EXTRACTABLE, &yes, sizeof(yes)};
	CHECK_RV(p11->C_SetAttributeValue(s, k, &unlock, 1), CKR_ATTRIBUTE_READ_ONLY,
	         "C_SetAttributeValue: CKA_EXTRACTABLE back to TRUE");
	CK_ATTRIBUTE value_attr = {CKA_VALUE, (void *)KEY, 32};
	CHECK_RV(p11->C_SetAttributeValue(s, k, &value_attr, 1), CKR_ATTRIBUTE_READ_ONLY,
	         "C_SetAttributeValue: CKA_VALUE");
	CK_ATTRIBUTE atomic[] = {{CKA_LABEL, "half", 4}, {CKA_CLASS, &pub, sizeof(pub)}};
	CHECK_RV(p11->C_SetAttributeValue(s, k, atomic, 2), CKR_ATTRIBUTE_READ_ONLY,
	         "C_SetAttributeValue: a template with one forbidden change");
	char label[16] = {0};
	CK_ATTRIBUTE get_label = {CKA_LABEL, label, sizeof(label) - 1};
	CHECK(p11->C_GetAttributeValue(s, k, &get_label, 1) == CKR_OK && !strcmp(label, "renamed"),
	      "a refused template changes nothing");

	/* Copies keep the protections and may only add to them. */
	CK_ATTRIBUTE copy_tmpl[] = {{CKA_LABEL, "copy", 4}, {CKA_MODIFIABLE, &no, sizeof(no)}};
	CHECK_RV(p11->C_CopyObject(s, k, copy_tmpl, 2, &c), CKR_OK, "C_CopyObject");
	CHECK(get_bool(s, c, CKA_SENSITIVE) == CK_TRUE &&
	              get_bool(s, c, CKA_EXTRACTABLE) == CK_FALSE,
	      "the copy is sensitive and unextractable like its source");
	/* CKA_UNIQUE_ID (3.0, 4.4.1) names one object: a copy has its own. */
	char uid_k[64] = "", uid_c[64] = "";
	CK_ATTRIBUTE get_uid_k = {0x4UL /* CKA_UNIQUE_ID */, uid_k, sizeof(uid_k) - 1};
	CK_ATTRIBUTE get_uid_c = {0x4UL, uid_c, sizeof(uid_c) - 1};
	CHECK(p11->C_GetAttributeValue(s, k, &get_uid_k, 1) == CKR_OK &&
	              p11->C_GetAttributeValue(s, c, &get_uid_c, 1) == CKR_OK &&
	              strcmp(uid_k, uid_c) != 0,
	      "the copy has its own CKA_UNIQUE_ID (%s, the source's %s)", uid_c, uid_k);
	CHECK_RV(p11->C_SetAttributeValue(s, c, &make_sensitive, 1), CKR_ACTION_PROHIBITED,
	         "C_SetAttributeValue on a copy made unmodifiable");
	CHECK_RV(p11->C_CopyObject(s, k, &unlock, 1, &tmp), CKR_ATTRIBUTE_READ_ONLY,
	         "C_CopyObject making the copy extractable");
	CK_ATTRIBUTE copy_to_token = {CKA_TOKEN, &yes, sizeof(yes)};
	CHECK_RV(p11->C_CopyObject(s, k, &copy_to_token, 1, &tmp), CKR_ATTRIBUTE_VALUE_INVALID,
	         "C_CopyObject onto the token");

	/* Vault keys change in the vault only. */
	CK_OBJECT_HANDLE vault_key = p11_find_one(p11, s, CKO_PRIVATE_KEY, "cmk");
	CHECK(vault_key != CK_INVALID_HANDLE, "the vault key 'cmk' is found");
	CK_ATTRIBUTE relabel = {CKA_LABEL, "x", 1};
	CHECK_RV(p11->C_SetAttributeValue(s, vault_key, &relabel, 1), CKR_ACTION_PROHIBITED,
	         "C_SetAttributeValue on a vault key");
	CHECK_RV(p11->C_CopyObject(s, vault_key, NULL, 0, &tmp), CKR_ACTION_PROHIBITED,
	         "C_CopyObject of a vault key");
	CHECK_RV(p11->C_SetAttributeValue(s, 0xdead, &relabel, 1), CKR_OBJECT_HANDLE_INVALID,
	         "C_SetAttributeValue on an invalid handle");

	CHECK_RV(p11->C_DestroyObject(s, c), CKR_OK, "C_DestroyObject of the copy");
	CHECK_RV(p11->C_DestroyObject(s, c), CKR_OBJECT_HANDLE_INVALID, "C_DestroyObject twice");
	churn(s, create);
	session_churn();
	close_all_sessions(s, create);
	p11->C_Finalize(NULL);
	return tap_status();
}
