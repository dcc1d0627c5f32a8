/* The "Vendor AZKV CMK" interface against the emulator: a key's versions
 * match the objects a search finds; a rotation is not seen until
 * AZKV_RefreshToken, after which the new version is current and the old
 * one keeps its handle and still signs and wraps; a refresh that fails
 * changes nothing; bad arguments and handles are refused.
 * Run by run.sh with AZKV_MODULE and AZKV_PKCS11_CONFIG set, and:
 *   AZKV_CMK_KEY        a key with two versions, ops sign,verify,wrapKey,unwrapKey
 *   AZKV_CMK_ROTATE     a command that makes a new version of it
 *   AZKV_CMK_FAULT_ON   a command after which listing its versions fails
 *   AZKV_CMK_FAULT_OFF  a command that ends that
 *   AZKV_CMK_GONE       another key, and AZKV_CMK_DELETE a command that
 *                       deletes it in the vault */
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azkv/azkv-pkcs11.h"
#include "p11_load.h"
#include "tap.h"

static CK_FUNCTION_LIST *p11;
static AZKV_CMK_FUNCTION_LIST *cmk;
static CK_SESSION_HANDLE sess;
static const char *key_name;

static int shell(const char *var)
{
	const char *cmd = getenv(var);
	if (cmd == NULL) {
		fprintf(stderr, "p11_cmk: %s is not set\n", var);
		return 0;
	}
	return system(cmd) == 0;
}

static CK_RV list(AZKV_KEY_VERSION_INFO *v, CK_ULONG *n);

/* A key deleted in the vault: after a refresh its objects are gone, and
 * their handles are refused; the other keys stay. */
static void deleted_key(void)
{
	const char *gone = getenv("AZKV_CMK_GONE");
	AZKV_KEY_VERSION_INFO g[4];
	CK_ULONG n = 4;
	CK_ATTRIBUTE a = {CKA_LABEL, NULL, 0};

	if (!gone) {
		TAP_FAIL("AZKV_CMK_GONE is not set");
		return;
	}
	CHECK(cmk->AZKV_ListKeyVersions(sess, (const CK_UTF8CHAR *)gone, (CK_ULONG)strlen(gone), g,
	                                &n) == CKR_OK &&
	              n == 1 && g[0].private_key && g[0].public_key,
	      "the key to delete has one version");
	if (n != 1)
		return;
	CHECK(shell("AZKV_CMK_DELETE"), "the key deleted in the vault");
	CHECK(p11->C_GetAttributeValue(sess, g[0].private_key, &a, 1) == CKR_OK,
	      "before a refresh its objects are still there");
	CHECK(cmk->AZKV_RefreshToken(0) == CKR_OK, "AZKV_RefreshToken after the deletion");
	n = 4;
	CHECK(cmk->AZKV_ListKeyVersions(sess, (const CK_UTF8CHAR *)gone, (CK_ULONG)strlen(gone), g,
	                                &n) == CKR_OK &&
	              n == 0,
	      "the deleted key has no versions");
	CHECK(p11->C_GetAttributeValue(sess, g[0].private_key, &a, 1) ==
	                      CKR_OBJECT_HANDLE_INVALID &&
	              p11->C_GetAttributeValue(sess, g[0].public_key, &a, 1) ==
	                      CKR_OBJECT_HANDLE_INVALID,
	      "its objects' handles are invalid");
	n = 4;
	CHECK(list(g, &n) == CKR_OK && n == 3, "the rotated key keeps its three versions");
}

static CK_RV list(AZKV_KEY_VERSION_INFO *v, CK_ULONG *n)
{
	return cmk->AZKV_ListKeyVersions(sess, (const CK_UTF8CHAR *)key_name, strlen(key_name), v,
	                                 n);
}

/* The single object of class cls whose type attribute is value; 0 if
 * none or several. */
static CK_OBJECT_HANDLE find_one(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type, const char *value)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {type, (void *)value, strlen(value)}};
	CK_OBJECT_HANDLE h[2] = {0};
	CK_ULONG n = 0;
	if (p11->C_FindObjectsInit(sess, t, 2) != CKR_OK)
		return 0;
	CK_RV rv = p11->C_FindObjects(sess, h, 2, &n);
	p11->C_FindObjectsFinal(sess);
	return rv == CKR_OK && n == 1 ? h[0] : 0;
}

static int label_is(CK_OBJECT_HANDLE h, const char *want)
{
	char label[256];
	CK_ATTRIBUTE t = {CKA_LABEL, label, sizeof(label) - 1};
	if (p11->C_GetAttributeValue(sess, h, &t, 1) != CKR_OK)
		return 0;
	label[t.ulValueLen] = '\0';
	return !strcmp(label, want);
}

static CK_BBOOL current_attr(CK_OBJECT_HANDLE h)
{
	CK_BBOOL b = 99;
	CK_ATTRIBUTE t = {CKA_AZKV_CURRENT_VERSION, &b, sizeof(b)};
	return p11->C_GetAttributeValue(sess, h, &t, 1) == CKR_OK ? b : 99;
}

static int signs(CK_OBJECT_HANDLE priv)
{
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	unsigned char sig[512];
	CK_ULONG len = sizeof(sig);
	return p11->C_SignInit(sess, &m, priv) == CKR_OK &&
	       p11->C_Sign(sess, (CK_BYTE *)"data", 4, sig, &len) == CKR_OK && len == 256;
}

static CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
static CK_MECHANISM oaep_mech = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};

/* dek wrapped with pub into out (512 bytes), its length into *len. */
static int wrap(CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE dek, unsigned char *out, CK_ULONG *len)
{
	*len = 512;
	return p11->C_WrapKey(sess, &oaep_mech, pub, dek, out, len) == CKR_OK && *len == 256;
}

static int wraps(CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE dek)
{
	unsigned char out[512];
	CK_ULONG len;
	return wrap(pub, dek, out, &len);
}

/* Whether priv unwraps wrapped (in the vault); the key made is destroyed. */
static int unwraps(CK_OBJECT_HANDLE priv, const unsigned char *wrapped, CK_ULONG len)
{
	CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &sec, sizeof(sec)}, {CKA_KEY_TYPE, &aes, sizeof(aes)}};
	CK_OBJECT_HANDLE key;
	CK_RV rv = p11->C_UnwrapKey(sess, &oaep_mech, priv, (CK_BYTE *)wrapped, len, t, 2, &key);
	printf("# unwrap with handle %lu: 0x%lx\n", (unsigned long)priv, (unsigned long)rv);
	return rv == CKR_OK && p11->C_DestroyObject(sess, key) == CKR_OK;
}

static int load(void)
{
	key_name = getenv("AZKV_CMK_KEY");
	if (key_name == NULL) {
		fprintf(stderr, "p11_cmk: set AZKV_MODULE and AZKV_CMK_KEY\n");
		return 0;
	}
	p11 = p11_load("p11_cmk");
	CK_C_GetInterface get_iface = (CK_C_GetInterface)p11_load_symbol("C_GetInterface");
	CK_INTERFACE *iface = NULL;
	CHECK(get_iface != NULL && p11 != NULL, "C_GetInterface and C_GetFunctionList");
	if (get_iface == NULL || p11 == NULL)
		return 0;
	CHECK(get_iface((CK_UTF8CHAR *)AZKV_CMK_INTERFACE_NAME, NULL, &iface, 0) == CKR_OK,
	      "C_GetInterface(\"" AZKV_CMK_INTERFACE_NAME "\")");
	if (iface == NULL)
		return 0;
	cmk = iface->pFunctionList;
	CHECK(cmk->version.major == AZKV_CMK_INTERFACE_VERSION_MAJOR &&
	              cmk->version.minor == AZKV_CMK_INTERFACE_VERSION_MINOR,
	      "the function list begins with its version, 1.0");
	CK_VERSION v10 = {1, 0};
	CK_INTERFACE *again = NULL;
	CHECK(get_iface((CK_UTF8CHAR *)AZKV_CMK_INTERFACE_NAME, &v10, &again, 0) == CKR_OK &&
	              again == iface,
	      "found by name and version too");
	return 1;
}

static void bad_arguments(CK_OBJECT_HANDLE dek)
{
	AZKV_KEY_VERSION_INFO info;
	CK_ULONG n = 0;
	CHECK(cmk->AZKV_RefreshToken(99) == CKR_SLOT_ID_INVALID, "refresh: unknown slot");
	CHECK(cmk->AZKV_ListKeyVersions(sess, NULL, 3, NULL, &n) == CKR_ARGUMENTS_BAD &&
	              cmk->AZKV_ListKeyVersions(sess, (const CK_UTF8CHAR *)"x", 0, NULL, &n) ==
	                      CKR_ARGUMENTS_BAD &&
	              cmk->AZKV_ListKeyVersions(sess, (const CK_UTF8CHAR *)"x", 1, NULL, NULL) ==
	                      CKR_ARGUMENTS_BAD,
	      "list: NULL or empty name, NULL count");
	CHECK(cmk->AZKV_ListKeyVersions(sess + 1000, (const CK_UTF8CHAR *)"x", 1, NULL, &n) ==
	              CKR_SESSION_HANDLE_INVALID,
	      "list: a session that is not open");
	n = 7;
	CHECK(cmk->AZKV_ListKeyVersions(sess, (const CK_UTF8CHAR *)"no-such-key", 11, NULL, &n) ==
	                      CKR_OK &&
	              n == 0,
	      "list: a name the token does not know has no versions");
	CHECK(cmk->AZKV_GetKeyVersionInfo(sess, 99999, &info) == CKR_OBJECT_HANDLE_INVALID,
	      "info: no such object");
	CHECK(cmk->AZKV_GetKeyVersionInfo(sess, dek, &info) == CKR_KEY_HANDLE_INVALID,
	      "info: a session AES key is not a vault key");
	CHECK(cmk->AZKV_GetKeyVersionInfo(sess + 1000, dek, &info) == CKR_SESSION_HANDLE_INVALID,
	      "info: a session that is not open");
	CHECK(cmk->AZKV_GetKeyVersionInfo(sess, dek, NULL) == CKR_ARGUMENTS_BAD, "info: NULL info");
}

/* Two versions: order, flags, and the same handles a search finds. */
static int before_rotation(AZKV_KEY_VERSION_INFO v[2])
{
	CK_ULONG n = 0, one = 1;
	AZKV_KEY_VERSION_INFO small[1];
	CHECK(list(NULL, &n) == CKR_OK && n == 2, "two versions (NULL buffer gives the count)");
	CHECK(list(small, &one) == CKR_BUFFER_TOO_SMALL && one == 2,
	      "a buffer too small: CKR_BUFFER_TOO_SMALL and the count");
	n = 2;
	CHECK(list(v, &n) == CKR_OK && n == 2, "both versions listed");
	if (n != 2)
		return 0;
	printf("# versions: %s (current %d), %s (current %d)\n", v[0].version, v[0].current,
	       v[1].version, v[1].current);
	CHECK(v[0].current && !v[1].current, "the current version first, and only it current");
	CHECK(v[0].created >= v[1].created && v[1].created > 0, "newest first, creation times set");
	CHECK(v[0].enabled && v[1].enabled && v[0].expires == 0 && v[0].not_before == 0,
	      "enabled, no nbf/exp");
	CHECK(strlen(v[0].version) == 32 && strcmp(v[0].version, v[1].version) != 0,
	      "32-character versions, distinct");
	int same = 1;
	for (int i = 0; i < 2; i++)
		same &= v[i].private_key != 0 && v[i].public_key != 0 &&
		        find_one(CKO_PRIVATE_KEY, CKA_AZKV_KEY_VERSION, v[i].version) ==
		                v[i].private_key &&
		        find_one(CKO_PUBLIC_KEY, CKA_AZKV_KEY_VERSION, v[i].version) ==
		                v[i].public_key;
	CHECK(same, "handles are those C_FindObjects finds by CKA_AZKV_KEY_VERSION");
	AZKV_KEY_VERSION_INFO one_info;
	CHECK(cmk->AZKV_GetKeyVersionInfo(sess, v[1].public_key, &one_info) == CKR_OK &&
	              !memcmp(&one_info, &v[1], sizeof(one_info)),
	      "AZKV_GetKeyVersionInfo of the older public key is its list entry");
	CK_ULONG ops = 0;
	CK_ATTRIBUTE t = {CKA_AZKV_KEY_OPS, &ops, sizeof(ops)};
	CHECK(p11->C_GetAttributeValue(sess, v[0].private_key, &t, 1) == CKR_OK &&
	              ops == (AZKV_KEY_OP_SIGN | AZKV_KEY_OP_VERIFY | AZKV_KEY_OP_WRAP_KEY |
	                      AZKV_KEY_OP_UNWRAP_KEY),
	      "CKA_AZKV_KEY_OPS is the vault's key_ops");
	t.pValue = &ops;
	ops = 0;
	CHECK(p11->C_GetAttributeValue(sess, v[1].public_key, &t, 1) == CKR_OK && ops != 0,
	      "CKA_AZKV_KEY_OPS on public keys too");
	return 1;
}

int main(void)
{
	if (!load())
		return 1;
	CHECK(cmk->AZKV_RefreshToken(0) == CKR_CRYPTOKI_NOT_INITIALIZED,
	      "refresh before C_Initialize");
	CK_ULONG n = 0;
	CHECK(list(NULL, &n) == CKR_CRYPTOKI_NOT_INITIALIZED, "list before C_Initialize");
	CHECK(p11->C_Initialize(NULL) == CKR_OK, "C_Initialize");
	CHECK(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &sess) == CKR_OK,
	      "C_OpenSession");

	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ULONG len32 = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE dek_t[] = {{CKA_VALUE_LEN, &len32, sizeof(len32)},
	                        {CKA_EXTRACTABLE, &yes, sizeof(yes)}};
	CK_OBJECT_HANDLE dek = 0;
	CHECK(p11->C_GenerateKey(sess, &gen, dek_t, 2, &dek) == CKR_OK, "a session AES key");

	AZKV_KEY_VERSION_INFO v[2], after[4];
	if (!before_rotation(v))
		goto done;
	bad_arguments(dek);

	/* The current version's wrap context, prepared before the rotation. */
	CHECK(wraps(find_one(CKO_PUBLIC_KEY, CKA_LABEL, key_name), dek),
	      "the key's name wraps before the rotation");

	/* An operation begun before the refresh ends after it. */
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CHECK(p11->C_SignInit(sess, &m, v[0].private_key) == CKR_OK,
	      "a signature begun with the current version");

	CHECK(shell("AZKV_CMK_ROTATE"), "the key rotated in the vault");
	n = 2;
	CHECK(list(after, &n) == CKR_OK && n == 2 && !strcmp(after[0].version, v[0].version) &&
	              after[0].current,
	      "without a refresh the new version is not seen");

	/* A refresh that cannot read the vault changes nothing. */
	CHECK(shell("AZKV_CMK_FAULT_ON"), "listing versions fails from now");
	CK_RV rv = cmk->AZKV_RefreshToken(0);
	printf("# failed refresh: 0x%lx\n", (unsigned long)rv);
	CHECK(rv != CKR_OK, "the refresh fails");
	CHECK(shell("AZKV_CMK_FAULT_OFF"), "listing versions works again");
	n = 4;
	CHECK(list(after, &n) == CKR_OK && n == 2 && !memcmp(after, v, sizeof(v)),
	      "after a failed refresh the versions and handles are as before");
	CHECK(label_is(v[0].private_key, key_name) && current_attr(v[0].private_key) == CK_TRUE,
	      "and the old current version is still labelled and flagged current");

	CHECK(cmk->AZKV_RefreshToken(0) == CKR_OK, "AZKV_RefreshToken");
	n = 4;
	CHECK(list(after, &n) == CKR_OK && n == 3, "three versions after the refresh");
	if (n != 3)
		goto done;
	printf("# new version %s\n", after[0].version);
	CHECK(after[0].current && strcmp(after[0].version, v[0].version) &&
	              strcmp(after[0].version, v[1].version),
	      "the new version comes first and is current");
	CHECK(!after[1].current && !strcmp(after[1].version, v[0].version) &&
	              after[1].private_key == v[0].private_key &&
	              after[1].public_key == v[0].public_key,
	      "the previous version is no longer current and keeps its handles");
	CHECK(!strcmp(after[2].version, v[1].version) && after[2].private_key == v[1].private_key &&
	              after[2].public_key == v[1].public_key,
	      "the oldest version keeps its handles");
	char old_label[256];
	snprintf(old_label, sizeof(old_label), "%s/%s", key_name, v[0].version);
	CHECK(label_is(v[0].private_key, old_label) && label_is(v[0].public_key, old_label) &&
	              current_attr(v[0].private_key) == CK_FALSE,
	      "the previous version is relabelled name/VERSION, CKA_AZKV_CURRENT_VERSION false");
	CHECK(label_is(after[0].private_key, key_name) &&
	              current_attr(after[0].public_key) == CK_TRUE &&
	              find_one(CKO_PRIVATE_KEY, CKA_LABEL, key_name) == after[0].private_key,
	      "the key name labels the new version alone");
	CHECK(find_one(CKO_PRIVATE_KEY, CKA_AZKV_KEY_VERSION, after[0].version) ==
	              after[0].private_key,
	      "C_FindObjects finds the new version");

	unsigned char sig[512];
	CK_ULONG sig_len = sizeof(sig);
	CHECK(p11->C_Sign(sess, (CK_BYTE *)"data", 4, sig, &sig_len) == CKR_OK && sig_len == 256,
	      "the signature begun before the refresh completes");
	CHECK(signs(v[0].private_key) && signs(v[1].private_key) && signs(after[0].private_key),
	      "every version signs in the vault through its handle");
	CHECK(wraps(v[0].public_key, dek) && wraps(after[0].public_key, dek),
	      "old and new public keys wrap");
	/* Each version wraps with its own public key (op_rsa_wrap.h prepares a
	 * context per key version): what the key's name wraps after the
	 * rotation only the new version's private key unwraps. */
	unsigned char wrapped[512];
	CK_ULONG wrapped_len = 0;
	CHECK(wrap(find_one(CKO_PUBLIC_KEY, CKA_LABEL, key_name), dek, wrapped, &wrapped_len) &&
	              unwraps(after[0].private_key, wrapped, wrapped_len) &&
	              !unwraps(v[0].private_key, wrapped, wrapped_len),
	      "a wrap with the key's name after the rotation uses the new version");
	CHECK(cmk->AZKV_RefreshToken(0) == CKR_OK && list(after, &n) == CKR_OK && n == 3 &&
	              after[1].private_key == v[0].private_key,
	      "a second refresh changes nothing");
	deleted_key();
done:
	CHECK(p11->C_Finalize(NULL) == CKR_OK, "C_Finalize");
	return tap_status();
}
