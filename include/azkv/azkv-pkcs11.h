/* azkv-pkcs11 vendor extension: attribute numbers that expose the Azure Key
 * Vault identity of a key object, and the "Vendor AZKV CMK" interface with
 * which CMK tooling lists a key's versions and sees a rotation without
 * reloading the module. Standard PKCS#11 clients never need any of this.
 *
 * Include a PKCS#11 header first (p11-kit's <p11-kit/pkcs11.h>, as
 * `pkg-config --cflags azkv-pkcs11` provides, or any other 2.40 or 3.0
 * one); this header needs nothing else, in C or C++. */
#ifndef AZKV_PKCS11_EXTENSION_H
#define AZKV_PKCS11_EXTENSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ attributes */

/* CKA_VENDOR_DEFINED (0x80000000) | 'AZKV' prefix, so numbers do not clash
 * with other vendors' attributes that a client may also know. */
#define CKA_AZKV_BASE (0x80000000UL | 0x415a0000UL)

/* UTF-8 string: the full key id with version, e.g.
 * "https://demo.vault.azure.net/keys/cmk/0123...". */
#define CKA_AZKV_KEY_ID (CKA_AZKV_BASE + 0x01)
/* UTF-8 string: the key version (32 hex characters). */
#define CKA_AZKV_KEY_VERSION (CKA_AZKV_BASE + 0x02)
/* CK_BBOOL: this object is the current (latest) version of its key. */
#define CKA_AZKV_CURRENT_VERSION (CKA_AZKV_BASE + 0x03)
/* UTF-8 string: the vault URL, e.g. "https://demo.vault.azure.net". */
#define CKA_AZKV_VAULT_URI (CKA_AZKV_BASE + 0x04)
/* UTF-8 string: the key's name in the vault. */
#define CKA_AZKV_KEY_NAME (CKA_AZKV_BASE + 0x05)
/* CK_BBOOL: the version is enabled in the vault ("attributes.enabled"). A
 * disabled version stays visible so that its errors can say why. */
#define CKA_AZKV_ENABLED (CKA_AZKV_BASE + 0x06)
/* UTF-8 string: the key's tags as a JSON object ("{}" when none). */
#define CKA_AZKV_TAGS (CKA_AZKV_BASE + 0x07)
/* CK_ULONG: the vault key's "key_ops" as a mask of AZKV_KEY_OP_* bits.
 * A mask rather than the JSON array: the vault's set of operations is
 * closed, and a CMK check ("wrapKey and unwrapKey allowed?") is then a bit
 * test without a JSON parser. Operations this module does not know are
 * not shown. CKA_WRAP, CKA_UNWRAP and the like say what PKCS#11 may do;
 * this says what the vault permits, including import and export. */
#define CKA_AZKV_KEY_OPS (CKA_AZKV_BASE + 0x08)

#define AZKV_KEY_OP_ENCRYPT    0x01UL /* "encrypt" */
#define AZKV_KEY_OP_DECRYPT    0x02UL /* "decrypt" */
#define AZKV_KEY_OP_SIGN       0x04UL /* "sign" */
#define AZKV_KEY_OP_VERIFY     0x08UL /* "verify" */
#define AZKV_KEY_OP_WRAP_KEY   0x10UL /* "wrapKey" */
#define AZKV_KEY_OP_UNWRAP_KEY 0x20UL /* "unwrapKey" */
#define AZKV_KEY_OP_IMPORT     0x40UL /* "import" */
#define AZKV_KEY_OP_EXPORT     0x80UL /* "export" */

/* ------------------------------------------------------------ interface */

/* PKCS#11 3.0 interface discovery, for PKCS#11 headers that predate it
 * (p11-kit before 0.25). Same layout as the 3.0 specification's. */
#if !defined(CKF_INTERFACE_FORK_SAFE) && !defined(AZKV_HAVE_CK_INTERFACE)
#define AZKV_HAVE_CK_INTERFACE 1
typedef struct CK_INTERFACE {
	CK_UTF8CHAR *pInterfaceName;
	void *pFunctionList;
	CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_RV (*CK_C_GetInterfaceList)(CK_INTERFACE *list, CK_ULONG *count);
typedef CK_RV (*CK_C_GetInterface)(CK_UTF8CHAR *name, CK_VERSION *version, CK_INTERFACE **interface,
                                   CK_FLAGS flags);
#endif

/* The vendor interface: the module's C_GetInterface finds it by name,
 *   CK_INTERFACE *iface;
 *   C_GetInterface((CK_UTF8CHAR *)AZKV_CMK_INTERFACE_NAME, NULL, &iface, 0);
 *   AZKV_CMK_FUNCTION_LIST *cmk = iface->pFunctionList;
 * and C_GetInterfaceList lists it after the standard "PKCS 11" ones. Its
 * functions work on the module of the same C_Initialize as the standard
 * functions: call them after C_Initialize, with the same handles. A later
 * minor version only appends members; check cmk->version. */
#define AZKV_CMK_INTERFACE_NAME          "Vendor AZKV CMK"
#define AZKV_CMK_INTERFACE_VERSION_MAJOR 1
#define AZKV_CMK_INTERFACE_VERSION_MINOR 0

/* Key Vault versions are 32 hex characters; room for longer ones. */
#define AZKV_KEY_VERSION_MAX 64

/* One version of a vault key, as the module last read it from the vault.
 * Times are Unix seconds, 0 when the vault gives none. */
typedef struct AZKV_KEY_VERSION_INFO {
	char version[AZKV_KEY_VERSION_MAX + 1]; /* NUL-terminated */
	CK_BBOOL current;                       /* the version the key name means now */
	CK_BBOOL enabled;                       /* "attributes.enabled" */
	CK_ULONG created;                       /* "attributes.created" */
	CK_ULONG not_before;                    /* "attributes.nbf" */
	CK_ULONG expires;                       /* "attributes.exp" */
	/* The version's key objects; CK_INVALID_HANDLE (0) when absent. A
	 * Managed HSM AES key (oct-HSM) has one object, a CKO_SECRET_KEY: it is
	 * private_key, and public_key is 0. */
	CK_OBJECT_HANDLE public_key;
	CK_OBJECT_HANDLE private_key;
} AZKV_KEY_VERSION_INFO;

/* AZKV_RefreshToken: reads the slot's keys from the vault again, so that a
 * version created since (a rotation) appears as the current one, labelled
 * with the key name, and the previous version is relabelled "name/VERSION"
 * with CKA_AZKV_CURRENT_VERSION false. Objects of versions that still
 * exist keep their handles, and sessions, searches and operations in
 * progress carry on; the objects of versions the vault no longer has
 * (deleted, or removed from the configuration's key list) are gone: their
 * handles become invalid (CKR_OBJECT_HANDLE_INVALID). Session objects and
 * certificates are not touched. This is the only call that re-reads a
 * token the module has already read: nothing is polled.
 *   CKR_OK, CKR_CRYPTOKI_NOT_INITIALIZED, CKR_SLOT_ID_INVALID,
 *   CKR_HOST_MEMORY, and the errors of reading the vault (CKR_DEVICE_ERROR
 *   and others, the cause logged), after which every object is as before. */
typedef CK_RV (*AZKV_RefreshToken_fn)(CK_SLOT_ID slot);

/* AZKV_ListKeyVersions: the versions of the key key_name (UTF-8, not
 * NUL-terminated, key_name_len bytes) on the session's token, newest
 * first (the current version first). PKCS#11's two-call convention:
 * versions NULL sets *count to the number; a *count too small gives
 * CKR_BUFFER_TOO_SMALL with *count set to the number. A name the token
 * does not know has no versions (*count 0). Reads the vault only if the
 * token has not been read yet (as a first C_FindObjectsInit would).
 *   CKR_OK, CKR_CRYPTOKI_NOT_INITIALIZED, CKR_SESSION_HANDLE_INVALID,
 *   CKR_ARGUMENTS_BAD (key_name or count NULL, key_name_len 0),
 *   CKR_BUFFER_TOO_SMALL, CKR_HOST_MEMORY, errors of reading the vault. */
typedef CK_RV (*AZKV_ListKeyVersions_fn)(CK_SESSION_HANDLE session, const CK_UTF8CHAR *key_name,
                                         CK_ULONG key_name_len, AZKV_KEY_VERSION_INFO *versions,
                                         CK_ULONG *count);

/* AZKV_GetKeyVersionInfo: the version of the vault key object key (public,
 * private, or a Managed HSM AES key's secret-key object).
 *   CKR_OK, CKR_CRYPTOKI_NOT_INITIALIZED, CKR_SESSION_HANDLE_INVALID,
 *   CKR_ARGUMENTS_BAD (info NULL), CKR_OBJECT_HANDLE_INVALID (no such
 *   object on the session's token), CKR_KEY_HANDLE_INVALID (an object that
 *   is not a vault key: a session key or a certificate). */
typedef CK_RV (*AZKV_GetKeyVersionInfo_fn)(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
                                           AZKV_KEY_VERSION_INFO *info);

/* Begins with a CK_VERSION, as every PKCS#11 function list does. */
typedef struct AZKV_CMK_FUNCTION_LIST {
	CK_VERSION version; /* {AZKV_CMK_INTERFACE_VERSION_MAJOR, _MINOR} */
	AZKV_RefreshToken_fn AZKV_RefreshToken;
	AZKV_ListKeyVersions_fn AZKV_ListKeyVersions;
	AZKV_GetKeyVersionInfo_fn AZKV_GetKeyVersionInfo;
} AZKV_CMK_FUNCTION_LIST;

#ifdef __cplusplus
}
#endif

#endif
