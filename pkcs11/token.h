/* A token per configured vault. Its objects are read from the vault the
 * first time a session searches it (never at C_Initialize), then cached. */
#ifndef AZKV_P11_TOKEN_H
#define AZKV_P11_TOKEN_H

#include <p11-kit/pkcs11.h>

#include "config.h"
#include "keyvault.h"
#include "lock.h"

typedef struct azkv_token {
	CK_SLOT_ID id;
	const azkv_vault_config *vault;
	azkv_kv_client *kv;
	azkv_lock *load_lock; /* one load at a time; taken before the module lock */
	int loaded;           /* under the module lock */
	int logged_in;        /* under the module lock */
} azkv_token;

/* NULL when slot is not a configured vault. */
azkv_token *azkv_token_get(CK_SLOT_ID slot);

/* Reads the vault's keys into token objects unless already done. Network
 * I/O happens without the module lock. */
CK_RV azkv_token_load(azkv_token *tok);

CK_RV azkv_token_init(azkv_token *tok, CK_SLOT_ID id, const azkv_vault_config *vault);
void azkv_token_cleanup(azkv_token *tok);

#endif
