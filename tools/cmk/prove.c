/* azkv-cmk: prove a key version works, end to end, through the PKCS#11
 * module and its CMK extension, as an application would use it: load the
 * module (dlopen), refresh the token (AZKV_RefreshToken) so the rotation
 * is seen, find the version (AZKV_ListKeyVersions), wrap a fresh AES key
 * with its public key (RSA-OAEP-256, local) and unwrap it in the vault,
 * and compare. The module reads the same configuration file as this tool. */
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azkv/azkv-pkcs11.h"
#include "prove.h"

typedef struct prover {
	void *dl;
	CK_FUNCTION_LIST *p11;
	AZKV_CMK_FUNCTION_LIST *cmk;
	CK_SESSION_HANDLE session;
	int initialized;
} prover;

static const char *module_path(const cmk_ctx *c)
{
	if (c->o->module)
		return c->o->module;
	if (getenv("AZKV_CMK_MODULE") && *getenv("AZKV_CMK_MODULE"))
		return getenv("AZKV_CMK_MODULE");
	return PKCS11LIBDIR "/azkv-pkcs11.so";
}

static int load(cmk_ctx *c, prover *p)
{
	CK_C_GetFunctionList get_list;
	CK_C_GetInterface get_iface;
	CK_INTERFACE *iface = NULL;
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	const char *path = module_path(c);
	CK_RV rv;

	p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl)
		return cmk_fail(
		        c, CMK_EXIT_CONFIG,
		        "give the module with --module PATH, or skip the proof with --no-prove",
		        "cannot prove the new version: cannot load the PKCS#11 module %s", path);
	get_list = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList");
	get_iface = (CK_C_GetInterface)dlsym(p->dl, "C_GetInterface");
	if (!get_list || get_list(&p->p11) != CKR_OK || !get_iface ||
	    get_iface((CK_UTF8CHAR *)AZKV_CMK_INTERFACE_NAME, NULL, &iface, 0) != CKR_OK || !iface)
		return cmk_fail(c, CMK_EXIT_CONFIG, "use azkv-pkcs11.so (--module PATH)",
		                "%s does not offer the \"%s\" interface", path,
		                AZKV_CMK_INTERFACE_NAME);
	p->cmk = iface->pFunctionList;
	/* The module reads the configuration this tool read. */
	setenv("AZKV_PKCS11_CONFIG", c->cfg->source, 1);
	rv = p->p11->C_Initialize(&args);
	if (rv != CKR_OK)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "C_Initialize of %s: CKR 0x%lx", path,
		                (unsigned long)rv);
	p->initialized = 1;
	return CMK_EXIT_OK;
}

static void unload(prover *p)
{
	if (p->session)
		p->p11->C_CloseSession(p->session);
	if (p->initialized)
		p->p11->C_Finalize(NULL);
	if (p->dl)
		dlclose(p->dl);
}

/* Finds the slot of this vault holding version; fills *info. */
static int find_version(cmk_ctx *c, prover *p, const char *version, AZKV_KEY_VERSION_INFO *info)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;

	if (p->p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		n = 0;
	for (CK_ULONG s = 0; s < n; s++) {
		AZKV_KEY_VERSION_INFO list[64];
		CK_ULONG count = 64;
		char uri[512] = "";
		CK_ATTRIBUTE attr = {CKA_AZKV_VAULT_URI, uri, sizeof(uri) - 1};

		/* After a rotation the token must be read again to see it. */
		if (p->cmk->AZKV_RefreshToken(slots[s]) != CKR_OK)
			continue;
		if (p->session)
			p->p11->C_CloseSession(p->session);
		p->session = 0;
		if (p->p11->C_OpenSession(slots[s], CKF_SERIAL_SESSION, NULL, NULL, &p->session) !=
		    CKR_OK)
			continue;
		if (p->cmk->AZKV_ListKeyVersions(p->session, (const CK_UTF8CHAR *)c->o->key,
		                                 (CK_ULONG)strlen(c->o->key), list,
		                                 &count) != CKR_OK)
			continue;
		for (CK_ULONG i = 0; i < count; i++) {
			if (strcmp(list[i].version, version) != 0 || !list[i].public_key)
				continue;
			if (p->p11->C_GetAttributeValue(p->session, list[i].public_key, &attr, 1) !=
			    CKR_OK)
				continue;
			uri[attr.ulValueLen < sizeof(uri) ? attr.ulValueLen : sizeof(uri) - 1] =
			        '\0';
			if (strcasecmp(uri, c->vault_uri) == 0) {
				*info = list[i];
				return CMK_EXIT_OK;
			}
		}
	}
	return cmk_fail(c, CMK_EXIT_NOT_FOUND,
	                "list the vault (and the key, if the vault names keys) in the "
	                "configuration's \"vaults\"",
	                "the module does not show version %s of key %s in %s", version, c->o->key,
	                c->vault_uri);
}

static int value_of(prover *p, CK_OBJECT_HANDLE key, unsigned char out[32])
{
	CK_ATTRIBUTE a = {CKA_VALUE, out, 32};

	return p->p11->C_GetAttributeValue(p->session, key, &a, 1) == CKR_OK && a.ulValueLen == 32;
}

/* AES-256 key generated in the module, wrapped with the version's public
 * key, unwrapped in the vault: the two must hold the same value. */
static int round_trip(cmk_ctx *c, prover *p, const AZKV_KEY_VERSION_INFO *info)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len32 = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE gen[] = {{CKA_VALUE_LEN, &len32, sizeof(len32)},
	                      {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	                      {CKA_SENSITIVE, &no, sizeof(no)}};
	CK_ATTRIBUTE unw[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                      {CKA_KEY_TYPE, &kt, sizeof(kt)},
	                      {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	                      {CKA_SENSITIVE, &no, sizeof(no)}};
	CK_MECHANISM gen_mech = {CKM_AES_KEY_GEN, NULL, 0};
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM wrap_mech = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
	CK_OBJECT_HANDLE dek = 0, back = 0;
	unsigned char wrapped[1024], a[32], b[32];
	CK_ULONG wrapped_len = sizeof(wrapped);
	CK_RV rv;
	int rc = CMK_EXIT_OK;

	rv = p->p11->C_GenerateKey(p->session, &gen_mech, gen, 3, &dek);
	if (rv == CKR_OK)
		rv = p->p11->C_WrapKey(p->session, &wrap_mech, info->public_key, dek, wrapped,
		                       &wrapped_len);
	if (rv != CKR_OK)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL,
		                "proof: wrapping with version %s failed: CKR 0x%lx", info->version,
		                (unsigned long)rv);
	rv = p->p11->C_UnwrapKey(p->session, &wrap_mech, info->private_key, wrapped, wrapped_len,
	                         unw, 4, &back);
	if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
		return cmk_fail(
		        c, CMK_EXIT_AUTH,
		        "give the configured identity unwrapKey on the key (e.g. Key Vault "
		        "Crypto Officer), or use --no-prove; the rotation itself is done",
		        "proof: the vault refused unwrapKey with version %s for the configured "
		        "identity",
		        info->version);
	if (rv != CKR_OK)
		return cmk_fail(c, CMK_EXIT_SERVICE, "the module's log (--verbose) says why",
		                "proof: unwrapping in the vault with version %s failed: CKR 0x%lx",
		                info->version, (unsigned long)rv);
	if (!value_of(p, dek, a) || !value_of(p, back, b) || CRYPTO_memcmp(a, b, 32) != 0)
		rc = cmk_fail(
		        c, CMK_EXIT_SERVICE, NULL,
		        "proof: the key unwrapped with version %s differs from the one wrapped",
		        info->version);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	p->p11->C_DestroyObject(p->session, dek);
	p->p11->C_DestroyObject(p->session, back);
	return rc;
}

int cmk_prove_version(cmk_ctx *c, const char *version)
{
	AZKV_KEY_VERSION_INFO info;
	prover p = {0};
	cJSON *proof;
	int rc;

	cmk_say(c, "Proving version %s works through %s\n", version, module_path(c));
	rc = load(c, &p);
	if (rc == CMK_EXIT_OK)
		rc = find_version(c, &p, version, &info);
	if (rc == CMK_EXIT_OK && !info.current)
		rc = cmk_fail(c, CMK_EXIT_SERVICE, NULL,
		              "proof: after a refresh, version %s is not the key's current version",
		              version);
	if (rc == CMK_EXIT_OK)
		rc = round_trip(c, &p, &info);
	unload(&p);
	proof = cJSON_AddObjectToObject(c->result, "proof");
	cJSON_AddStringToObject(proof, "version", version);
	cJSON_AddBoolToObject(proof, "wrapUnwrap", rc == CMK_EXIT_OK);
	if (rc == CMK_EXIT_OK)
		cmk_say(c,
		        "Proved: version %s is current in the module and a key wrapped with it "
		        "unwraps in the vault (RSA-OAEP-256).\n",
		        version);
	return rc;
}
