/* Data objects (CKO_DATA, PKCS#11 3.0 4.5), cross-checked: the same create,
 * copy, find, get, set and destroy sequence of session data objects on
 * azkv-pkcs11 and on SoftHSMv2, each line the answer (a CK_RV or a value)
 * and whether it is the one the spec asks for. run.sh compares the two
 * outputs line by line (check.h).
 *
 *   xcheck_data MODULE TOKEN_LABEL PIN
 *
 * Exit status: the number of lines that are not what the spec asks for
 * (capped), 0 when all are; 2 when the module cannot be used at all.
 * Built by run.sh at test time as misuse.c is. */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#ifndef CKA_UNIQUE_ID
#define CKA_UNIQUE_ID 0x4UL /* PKCS#11 3.0; p11-kit's header is 2.40 */
#endif

static CK_FUNCTION_LIST *p11;
static CK_SESSION_HANDLE rw;

static CK_OBJECT_CLASS data_class = CKO_DATA;
static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
/* id-data, 1.2.840.113549.1.7.1 (RFC 5652, 4), DER-encoded. */
static const unsigned char ID_DATA[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                        0xf7, 0x0d, 0x01, 0x07, 0x01};
static const char APP[] = "azkv xcheck", VALUE[] = "data object value 1";
static const char LABEL[] = "xcheck-data", RENAMED[] = "xcheck-renamed";

/* A value as one word: hex, or "empty". */
static const char *word(const void *v, CK_ULONG len, char out[130])
{
	if (len == 0)
		return "empty";
	CK_ULONG n = len > 64 ? 64 : len;
	for (CK_ULONG i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", ((const unsigned char *)v)[i]);
	return out;
}

/* One line: attribute type of object h, which the spec (and the template
 * that made h) says is want (NULL: any value, the token's choice); note as
 * in check(). */
static void expect_attr(const char *id, const char *note, CK_OBJECT_HANDLE h,
                        CK_ATTRIBUTE_TYPE type, const void *want, CK_ULONG want_len)
{
	unsigned char buf[256];
	char got_w[130], want_w[130];
	CK_ATTRIBUTE a = {type, buf, sizeof(buf)};
	CK_RV rv = p11->C_GetAttributeValue(rw, h, &a, 1);
	const char *got = rv == CKR_OK ? word(buf, a.ulValueLen, got_w) : rv_name(rv);
	int ok = rv == CKR_OK &&
	         (want == NULL || (a.ulValueLen == want_len && memcmp(buf, want, want_len) == 0));
	printf("%s - %s = %s", ok ? "ok" : "not ok", id, got);
	if (!ok) {
		printf(" (spec: %s)", want != NULL ? word(want, want_len, want_w) : "any value");
		failures++;
	}
	if (note != NULL)
		printf(" # may differ from SoftHSM: %s", note);
	printf("\n");
	fflush(stdout);
}

/* One line: how many objects tmpl finds (want of them). */
static void expect_found(const char *id, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_ULONG want)
{
	CK_OBJECT_HANDLE found[16];
	CK_ULONG count = 0;
	CK_RV rv = p11->C_FindObjectsInit(rw, tmpl, n);
	if (rv == CKR_OK)
		rv = p11->C_FindObjects(rw, found, 16, &count);
	p11->C_FindObjectsFinal(rw);
	int ok = rv == CKR_OK && count == want;
	if (rv != CKR_OK)
		printf("not ok - %s = %s (spec: %lu)\n", id, rv_name(rv), (unsigned long)want);
	else
		printf("%s - %s = %lu%s\n", ok ? "ok" : "not ok", id, (unsigned long)count,
		       ok ? "" : " (spec: another count)");
	failures += !ok;
	fflush(stdout);
}

/* Whether an empty template finds h. */
static int found_by_empty_template(CK_OBJECT_HANDLE h)
{
	CK_OBJECT_HANDLE found[64];
	CK_ULONG count = 0;
	int seen = 0;
	if (p11->C_FindObjectsInit(rw, NULL, 0) != CKR_OK)
		return 0;
	while (!seen && p11->C_FindObjects(rw, found, 64, &count) == CKR_OK && count > 0)
		for (CK_ULONG i = 0; i < count; i++)
			seen |= found[i] == h;
	p11->C_FindObjectsFinal(rw);
	return seen;
}

/* A creation that azkv-pkcs11 refuses with want, and that the spec also
 * allows to answer also; what a module made is destroyed, so that the
 * token stays as it was. */
static void expect_create(const char *id, const char *note, CK_ATTRIBUTE *t, CK_ULONG n, CK_RV want,
                          CK_RV also)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = p11->C_CreateObject(rw, t, n, &h);
	check(id, note, rv, want == also ? 1 : 2, want, also);
	if (rv == CKR_OK)
		p11->C_DestroyObject(rw, h);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: xcheck_data MODULE TOKEN_LABEL PIN\n");
		return 2;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	CK_C_GetFunctionList get =
	        lib ? (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList") : NULL;
	CK_SLOT_ID slots[16];
	CK_ULONG nslots = 16;
	if (get == NULL || get(&p11) != CKR_OK || p11->C_Initialize(NULL) != CKR_OK ||
	    p11->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK) {
		fprintf(stderr, "%s: cannot load or initialise the module\n", argv[1]);
		return 2;
	}
	CK_SLOT_ID slot = (CK_SLOT_ID)-1;
	for (CK_ULONG i = 0; i < nslots && slot == (CK_SLOT_ID)-1; i++) {
		CK_TOKEN_INFO ti;
		char label[33];
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(label, ti.label, 32);
		for (int end = 32; end >= 0 && (end == 32 || label[end] == ' '); end--)
			label[end] = '\0';
		if (strcmp(label, argv[2]) == 0)
			slot = slots[i];
	}
	if (slot == (CK_SLOT_ID)-1 || p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	                                                 NULL, NULL, &rw) != CKR_OK) {
		fprintf(stderr, "no token labelled %s, or no session on it\n", argv[2]);
		return 2;
	}
	/* SoftHSM's objects are private by default, seen only when logged in. */
	EXPECT("C_Login(CKU_USER)",
	       p11->C_Login(rw, CKU_USER, (CK_UTF8CHAR *)argv[3], strlen(argv[3])), CKR_OK);

	/* ---------------------------------------------------------- create and read (4.5) */
	CK_ATTRIBUTE full[] = {{CKA_CLASS, &data_class, sizeof(data_class)},
	                       {CKA_TOKEN, &no, sizeof(no)},
	                       {CKA_PRIVATE, &no, sizeof(no)},
	                       {CKA_LABEL, (void *)LABEL, strlen(LABEL)},
	                       {CKA_APPLICATION, (void *)APP, strlen(APP)},
	                       {CKA_OBJECT_ID, (void *)ID_DATA, sizeof(ID_DATA)},
	                       {CKA_VALUE, (void *)VALUE, strlen(VALUE)}};
	CK_OBJECT_HANDLE d1 = CK_INVALID_HANDLE, d0 = CK_INVALID_HANDLE;
	EXPECT("C_CreateObject(CKO_DATA, every attribute)", p11->C_CreateObject(rw, full, 7, &d1),
	       CKR_OK);
	expect_attr("CKA_CLASS", NULL, d1, CKA_CLASS, &data_class, sizeof(data_class));
	expect_attr("CKA_TOKEN", NULL, d1, CKA_TOKEN, &no, 1);
	expect_attr("CKA_PRIVATE", NULL, d1, CKA_PRIVATE, &no, 1);
	expect_attr("CKA_MODIFIABLE", NULL, d1, CKA_MODIFIABLE, &yes, 1);
	expect_attr("CKA_COPYABLE", NULL, d1, CKA_COPYABLE, &yes, 1);
	expect_attr("CKA_DESTROYABLE", NULL, d1, CKA_DESTROYABLE, &yes, 1);
	expect_attr("CKA_LABEL", NULL, d1, CKA_LABEL, LABEL, strlen(LABEL));
	expect_attr("CKA_APPLICATION", NULL, d1, CKA_APPLICATION, APP, strlen(APP));
	expect_attr("CKA_OBJECT_ID", NULL, d1, CKA_OBJECT_ID, ID_DATA, sizeof(ID_DATA));
	expect_attr("CKA_VALUE", NULL, d1, CKA_VALUE, VALUE, strlen(VALUE));
	CK_ATTRIBUTE len_query = {CKA_VALUE, NULL, 0};
	EXPECT("C_GetAttributeValue(CKA_VALUE, pValue NULL) length",
	       p11->C_GetAttributeValue(rw, d1, &len_query, 1), CKR_OK);
	check_true("CKA_VALUE length", len_query.ulValueLen == strlen(VALUE), "length %lu",
	           (unsigned long)len_query.ulValueLen);
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE key_type = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	EXPECT("C_GetAttributeValue(CKA_KEY_TYPE of a data object)",
	       p11->C_GetAttributeValue(rw, d1, &key_type, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	unsigned char uid[128];
	CK_ATTRIBUTE unique = {CKA_UNIQUE_ID, uid, sizeof(uid)};
	EXPECT_NOTE("C_GetAttributeValue(CKA_UNIQUE_ID)",
	            "SoftHSM 2.6 follows PKCS#11 2.40, which has no CKA_UNIQUE_ID",
	            p11->C_GetAttributeValue(rw, d1, &unique, 1), CKR_OK,
	            CKR_ATTRIBUTE_TYPE_INVALID);
	CK_ULONG size = 0;
	EXPECT("C_GetObjectSize", p11->C_GetObjectSize(rw, d1, &size), CKR_OK);

	/* The defaults: 4.4 for the storage attributes, 4.5 empty values. */
	EXPECT("C_CreateObject(CKO_DATA, class only)", p11->C_CreateObject(rw, full, 1, &d0),
	       CKR_OK);
	expect_attr("default CKA_TOKEN", NULL, d0, CKA_TOKEN, &no, 1);
	expect_attr("default CKA_PRIVATE",
	            "the default is the token's (4.4); SoftHSM makes objects private, azkv-pkcs11 "
	            "public as its session keys",
	            d0, CKA_PRIVATE, NULL, 0);
	expect_attr("default CKA_MODIFIABLE", NULL, d0, CKA_MODIFIABLE, &yes, 1);
	expect_attr("default CKA_COPYABLE", NULL, d0, CKA_COPYABLE, &yes, 1);
	expect_attr("default CKA_DESTROYABLE", NULL, d0, CKA_DESTROYABLE, &yes, 1);
	expect_attr("default CKA_LABEL", NULL, d0, CKA_LABEL, "", 0);
	expect_attr("default CKA_APPLICATION", NULL, d0, CKA_APPLICATION, "", 0);
	expect_attr("default CKA_OBJECT_ID", NULL, d0, CKA_OBJECT_ID, "", 0);
	expect_attr("default CKA_VALUE", NULL, d0, CKA_VALUE, "", 0);

	/* ---------------------------------------------------------- find */
	CK_ATTRIBUTE by_label[] = {full[0], full[3]};
	expect_found("C_FindObjects(class and label)", by_label, 2, 1);
	expect_found("C_FindObjects(CKA_APPLICATION)", &full[4], 1, 1);
	expect_found("C_FindObjects(CKA_OBJECT_ID)", &full[5], 1, 1);
	expect_found("C_FindObjects(CKA_VALUE)", &full[6], 1, 1);
	expect_found("C_FindObjects(CKO_DATA)", full, 1, 2);
	check_true("C_FindObjects(empty template) finds the data objects",
	           found_by_empty_template(d1) && found_by_empty_template(d0), "not found");

	/* ---------------------------------------------------------- set (4.4, 4.5) */
	CK_ATTRIBUTE rename = {CKA_LABEL, (void *)RENAMED, strlen(RENAMED)};
	EXPECT("C_SetAttributeValue(CKA_LABEL)", p11->C_SetAttributeValue(rw, d1, &rename, 1),
	       CKR_OK);
	expect_attr("CKA_LABEL after the set", NULL, d1, CKA_LABEL, RENAMED, strlen(RENAMED));
	CK_ATTRIBUTE other_app = {CKA_APPLICATION, "other", 5};
	CK_ATTRIBUTE other_value = {CKA_VALUE, "other", 5};
	CK_ATTRIBUTE other_oid = {CKA_OBJECT_ID, (void *)ID_DATA, sizeof(ID_DATA)};
	CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
	CK_ATTRIBUTE other_class = {CKA_CLASS, &secret, sizeof(secret)};
	CK_ATTRIBUTE other_type = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	EXPECT("C_SetAttributeValue(CKA_APPLICATION)",
	       p11->C_SetAttributeValue(rw, d1, &other_app, 1), CKR_ATTRIBUTE_READ_ONLY);
	EXPECT("C_SetAttributeValue(CKA_VALUE)", p11->C_SetAttributeValue(rw, d1, &other_value, 1),
	       CKR_ATTRIBUTE_READ_ONLY);
	EXPECT("C_SetAttributeValue(CKA_OBJECT_ID)",
	       p11->C_SetAttributeValue(rw, d1, &other_oid, 1), CKR_ATTRIBUTE_READ_ONLY);
	EXPECT("C_SetAttributeValue(CKA_CLASS)", p11->C_SetAttributeValue(rw, d1, &other_class, 1),
	       CKR_ATTRIBUTE_READ_ONLY);
	kt = CKK_AES;
	EXPECT("C_SetAttributeValue(CKA_KEY_TYPE)",
	       p11->C_SetAttributeValue(rw, d1, &other_type, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	expect_attr("CKA_APPLICATION after refused sets", NULL, d1, CKA_APPLICATION, APP,
	            strlen(APP));
	expect_attr("CKA_VALUE after refused sets", NULL, d1, CKA_VALUE, VALUE, strlen(VALUE));

	/* ---------------------------------------------------------- copy (4.1.3) */
	CK_OBJECT_HANDLE c1 = CK_INVALID_HANDLE, c2 = CK_INVALID_HANDLE, tmp;
	CK_ATTRIBUTE copy_label = {CKA_LABEL, "xcheck-copy", 11};
	EXPECT("C_CopyObject(new label)", p11->C_CopyObject(rw, d1, &copy_label, 1, &c1), CKR_OK);
	expect_attr("copy: CKA_LABEL", NULL, c1, CKA_LABEL, "xcheck-copy", 11);
	expect_attr("copy: CKA_APPLICATION", NULL, c1, CKA_APPLICATION, APP, strlen(APP));
	expect_attr("copy: CKA_OBJECT_ID", NULL, c1, CKA_OBJECT_ID, ID_DATA, sizeof(ID_DATA));
	expect_attr("copy: CKA_VALUE", NULL, c1, CKA_VALUE, VALUE, strlen(VALUE));
	expect_attr("copy: CKA_TOKEN", NULL, c1, CKA_TOKEN, &no, 1);
	expect_found("C_FindObjects(CKA_APPLICATION) with the copy", &full[4], 1, 2);
	unsigned char uid2[128];
	CK_ATTRIBUTE unique2 = {CKA_UNIQUE_ID, uid2, sizeof(uid2)};
	if (p11->C_GetAttributeValue(rw, c1, &unique2, 1) == CKR_OK)
		check_true_note("the copy has its own CKA_UNIQUE_ID (4.4.1)",
		                "SoftHSM 2.6 follows PKCS#11 2.40, which has no CKA_UNIQUE_ID",
		                unique2.ulValueLen != unique.ulValueLen ||
		                        memcmp(uid, uid2, unique.ulValueLen) != 0,
		                "the same as the original's");
	EXPECT("C_CopyObject(CKA_APPLICATION)", p11->C_CopyObject(rw, d1, &other_app, 1, &tmp),
	       CKR_ATTRIBUTE_READ_ONLY);
	CK_ATTRIBUTE to_token = {CKA_TOKEN, &yes, sizeof(yes)};
	CK_RV rv = p11->C_CopyObject(rw, d1, &to_token, 1, &tmp);
	EXPECT_NOTE("C_CopyObject(CKA_TOKEN=TRUE)",
	            "azkv-pkcs11 keeps no token objects (the token is the vault) and says so "
	            "with CKR_ATTRIBUTE_VALUE_INVALID; SoftHSM stores one",
	            rv, CKR_OK, CKR_ATTRIBUTE_VALUE_INVALID);
	if (rv == CKR_OK)
		p11->C_DestroyObject(rw, tmp);
	CK_ATTRIBUTE frozen = {CKA_MODIFIABLE, &no, sizeof(no)};
	EXPECT("C_CopyObject(CKA_MODIFIABLE=FALSE)", p11->C_CopyObject(rw, d1, &frozen, 1, &c2),
	       CKR_OK);
	expect_attr("copy: CKA_MODIFIABLE", NULL, c2, CKA_MODIFIABLE, &no, 1);
	EXPECT("C_SetAttributeValue(CKA_LABEL) of an unmodifiable copy",
	       p11->C_SetAttributeValue(rw, c2, &rename, 1), CKR_ACTION_PROHIBITED);
	EXPECT("C_DestroyObject(the unmodifiable copy)", p11->C_DestroyObject(rw, c2), CKR_OK);

	/* ---------------------------------------------------------- the storage booleans */
	CK_OBJECT_HANDLE pinned = CK_INVALID_HANDLE, single = CK_INVALID_HANDLE;
	CK_ATTRIBUTE not_copyable[] = {full[0], {CKA_COPYABLE, &no, sizeof(no)}};
	CK_ATTRIBUTE not_destroyable[] = {full[0], {CKA_DESTROYABLE, &no, sizeof(no)}};
	EXPECT("C_CreateObject(CKA_COPYABLE=FALSE)",
	       p11->C_CreateObject(rw, not_copyable, 2, &single), CKR_OK);
	EXPECT("C_CopyObject(of CKA_COPYABLE=FALSE)",
	       p11->C_CopyObject(rw, single, &copy_label, 1, &tmp), CKR_ACTION_PROHIBITED);
	EXPECT("C_CreateObject(CKA_DESTROYABLE=FALSE)",
	       p11->C_CreateObject(rw, not_destroyable, 2, &pinned), CKR_OK);
	EXPECT("C_DestroyObject(of CKA_DESTROYABLE=FALSE)", p11->C_DestroyObject(rw, pinned),
	       CKR_ACTION_PROHIBITED);

	/* ---------------------------------------------------------- refused templates */
	CK_ATTRIBUTE with_key_type[] = {full[0], {CKA_KEY_TYPE, &kt, sizeof(kt)}};
	expect_create("C_CreateObject(CKO_DATA with CKA_KEY_TYPE)", NULL, with_key_type, 2,
	              CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_TYPE_INVALID);
	CK_ATTRIBUTE on_token[] = {full[0], to_token};
	expect_create(
	        "C_CreateObject(CKO_DATA, CKA_TOKEN=TRUE)",
	        "azkv-pkcs11 keeps no token objects (the token is the vault) and says so with "
	        "CKR_ATTRIBUTE_VALUE_INVALID; SoftHSM stores one",
	        on_token, 2, CKR_ATTRIBUTE_VALUE_INVALID, CKR_OK);
	CK_ATTRIBUTE not_der[] = {full[0], {CKA_OBJECT_ID, "1.2.840", 7}};
	expect_create("C_CreateObject(CKA_OBJECT_ID not DER)",
	              "4.5 has CKA_OBJECT_ID the DER of an object identifier; azkv-pkcs11 checks "
	              "it, SoftHSM stores any bytes",
	              not_der, 2, CKR_ATTRIBUTE_VALUE_INVALID, CKR_ATTRIBUTE_VALUE_INVALID);
	CK_ATTRIBUTE given_id[] = {full[0], {CKA_UNIQUE_ID, "mine", 4}};
	expect_create("C_CreateObject(CKA_UNIQUE_ID given)",
	              "3.0 makes CKA_UNIQUE_ID read-only (4.4.1); SoftHSM 2.6 (2.40) does not "
	              "know it",
	              given_id, 2, CKR_ATTRIBUTE_READ_ONLY, CKR_ATTRIBUTE_TYPE_INVALID);

	/* ---------------------------------------------------------- lifetime (5.7) */
	/* Session objects may be made in a read-only session, and go with it. */
	CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE in_ro = CK_INVALID_HANDLE;
	EXPECT("C_OpenSession(R/O)", p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro),
	       CKR_OK);
	EXPECT("C_CreateObject(CKO_DATA) in an R/O session",
	       p11->C_CreateObject(ro, full, 7, &in_ro), CKR_OK);
	expect_found("C_FindObjects(CKA_VALUE) with the R/O session's object", &full[6], 1, 3);
	EXPECT("C_CloseSession(R/O)", p11->C_CloseSession(ro), CKR_OK);
	CK_ATTRIBUTE cls = {CKA_CLASS, &secret, sizeof(secret)};
	EXPECT("data object of a closed session", p11->C_GetAttributeValue(rw, in_ro, &cls, 1),
	       CKR_OBJECT_HANDLE_INVALID);

	/* ---------------------------------------------------------- destroy */
	EXPECT("C_DestroyObject", p11->C_DestroyObject(rw, d1), CKR_OK);
	EXPECT("C_GetAttributeValue(destroyed object)", p11->C_GetAttributeValue(rw, d1, &cls, 1),
	       CKR_OBJECT_HANDLE_INVALID);
	EXPECT("C_DestroyObject(destroyed object)", p11->C_DestroyObject(rw, d1),
	       CKR_OBJECT_HANDLE_INVALID);
	CK_ATTRIBUTE by_new_label[] = {full[0], rename};
	expect_found("C_FindObjects(the destroyed object's label)", by_new_label, 2, 0);
	EXPECT("C_DestroyObject(the copy)", p11->C_DestroyObject(rw, c1), CKR_OK);
	expect_found("C_FindObjects(CKA_VALUE) once destroyed", &full[6], 1, 0);

	EXPECT("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
	printf("# %d check(s) failed\n", failures);
	return failures > 100 ? 100 : failures;
}
