/* Slot, token and mechanism queries: one slot per configured vault, its
 * token always present. None of these touch the network. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "login.h"
#include "mech.h"
#include "mhsm.h"
#include "module.h"
#include "session.h"
#include "token.h"

#ifndef CK_EFFECTIVELY_INFINITE
#define CK_EFFECTIVELY_INFINITE 0UL
#endif

CK_RV C_GetSlotList(CK_BBOOL token_present, CK_SLOT_ID *list, CK_ULONG *count)
{
	AZKV_REQUIRE_INIT();
	if (count == NULL) {
		azkv_error("C_GetSlotList: pulCount is NULL");
		return CKR_ARGUMENTS_BAD;
	}
	CK_ULONG n = (CK_ULONG)azkv_g.n_tokens;
	if (list == NULL) {
		*count = n;
		return CKR_OK;
	}
	if (*count < n) {
		*count = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (CK_ULONG i = 0; i < n; i++)
		list[i] = i;
	*count = n;
	return CKR_OK;
}

/* The start of fn's query about slot into info (size bytes, zeroed here):
 * *tok, or why not. */
static CK_RV query_start(const char *fn, CK_SLOT_ID slot, void *info, size_t size, azkv_token **tok)
{
	if (info == NULL) {
		azkv_error("%s: pInfo is NULL", fn);
		return CKR_ARGUMENTS_BAD;
	}
	if ((*tok = azkv_slot_token(slot)) == NULL)
		return CKR_SLOT_ID_INVALID;
	memset(info, 0, size);
	return CKR_OK;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO *info)
{
	AZKV_REQUIRE_INIT();
	azkv_token *tok;
	CK_RV rv = query_start(__func__, slot, info, sizeof(*info), &tok);
	if (rv != CKR_OK)
		return rv;
	azkv_pad_field(info->slotDescription, sizeof(info->slotDescription), tok->vault->url);
	azkv_pad_field(info->manufacturerID, sizeof(info->manufacturerID), "azkv-pkcs11");
	info->flags = CKF_TOKEN_PRESENT;
	info->hardwareVersion = (CK_VERSION){0, 1};
	info->firmwareVersion = (CK_VERSION){0, 1};
	return CKR_OK;
}

/* A stable serial number: the first 8 bytes of SHA-256 of the vault URL,
 * in hex, so two vaults with the same label still differ. */
static void serial_of(const char *url, char out[17])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!EVP_Digest(url, strlen(url), md, &len, EVP_sha256(), NULL))
		memset(md, 0, 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
	AZKV_REQUIRE_INIT();
	char serial[17];
	azkv_token *tok;
	CK_RV rv = query_start(__func__, slot, info, sizeof(*info), &tok);
	if (rv != CKR_OK)
		return rv;
	serial_of(tok->vault->url, serial);
	azkv_pad_field(info->label, sizeof(info->label), tok->vault->label);
	azkv_pad_field(info->manufacturerID, sizeof(info->manufacturerID), "azkv-pkcs11");
	azkv_pad_field(info->model, sizeof(info->model),
	               azkv_mhsm_is_hsm(tok->vault->url) ? "Managed HSM" : "Key Vault");
	azkv_pad_field(info->serialNumber, sizeof(info->serialNumber), serial);
	/* The Azure identity in the configuration decides access; a vault's
	 * optional "pin" adds a login before its private objects show
	 * (login.h). "PIN initialised" keeps clients from offering to set one
	 * up. */
	info->flags = CKF_TOKEN_INITIALIZED | CKF_RNG | CKF_USER_PIN_INITIALIZED;
	if (azkv_login_required(tok))
		info->flags |= CKF_LOGIN_REQUIRED;
	info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	azkv_lock_acquire(azkv_g.lock);
	azkv_sessions_count(slot, &info->ulSessionCount, &info->ulRwSessionCount);
	azkv_lock_release(azkv_g.lock);
	info->ulMaxPinLen = AZKV_PIN_MAX;
	info->ulMinPinLen = 0;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion = (CK_VERSION){0, 1};
	info->firmwareVersion = (CK_VERSION){0, 1};
	azkv_pad_field(info->utcTime, sizeof(info->utcTime), "");
	return CKR_OK;
}

CK_RV C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
	AZKV_REQUIRE_INIT();
	if (azkv_slot_token(slot) == NULL)
		return CKR_SLOT_ID_INVALID;
	return azkv_mech_list(list, count);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	AZKV_REQUIRE_INIT();
	const azkv_token *tok = azkv_slot_token(slot);
	if (tok == NULL)
		return CKR_SLOT_ID_INVALID;
	return azkv_mech_vault_info(tok->vault, type, info);
}
