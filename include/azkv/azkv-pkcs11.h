/* azkv-pkcs11 vendor extension: attribute numbers that expose the Azure Key
 * Vault identity of a key object. Standard PKCS#11 clients never need these;
 * CMK tooling reads them with C_GetAttributeValue. */
#ifndef AZKV_PKCS11_EXTENSION_H
#define AZKV_PKCS11_EXTENSION_H

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

#endif
