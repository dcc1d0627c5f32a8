/* A token per configured vault. Its objects are read from the vault the
 * first time a session searches it (never at C_Initialize), then cached. */
#ifndef AZKV_P11_TOKEN_H
#define AZKV_P11_TOKEN_H

#include <p11-kit/pkcs11.h>

#include "array.h"
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
	/* Open sessions, all and read/write (session.c); under the module lock. */
	CK_ULONG sessions, rw_sessions;
} azkv_token;

/* NULL when slot is not a configured vault (module_state.c). */
azkv_token *azkv_token_get(CK_SLOT_ID slot);

/* The same for the slot an application's call names (C_GetTokenInfo,
 * C_OpenSession, ...): a valid one goes into the call's log lines
 * (slot=), as azkv_session_find puts a session's; for one that does not
 * exist the log says which slots do (the caller returns
 * CKR_SLOT_ID_INVALID). */
azkv_token *azkv_slot_token(CK_SLOT_ID slot);

/* Reads the vault's keys into token objects unless already done. Network
 * I/O happens without the module lock. */
CK_RV azkv_token_load(azkv_token *tok);

/* AZKV_RefreshToken (token_refresh.c): reads the vault again and brings
 * the token's key objects in line with it, keeping the handles of the
 * versions that remain; the first load when the token was never read. On
 * failure nothing changes. */
CK_RV azkv_token_refresh(azkv_token *tok);

/* Key objects read from a vault, not yet in the handle table. */
struct azkv_object;
typedef struct azkv_token_read {
	AZKV_ARRAY(struct azkv_object *) objs; /* owned */
	int strict;           /* a refresh: a key whose versions cannot be listed fails it */
	size_t versions_read; /* key versions asked for so far */
	long started_ms;      /* CLOCK_MONOTONIC at the first, 0 before */
} azkv_token_read;

/* Bounds of one read of a vault (a load or a refresh): at most this many
 * key versions (the objects a token shows are twice that at most), in at
 * most this long. A vault that needs more fails the read with
 * CKR_DEVICE_ERROR and a log line; naming the keys in the configuration
 * reads only those. Each listing has its own bounds (keyvault.h). */
#define AZKV_TOKEN_MAX_KEY_VERSIONS 1000
#define AZKV_TOKEN_READ_DEADLINE_MS 120000L

/* The configuration's keys, or every key the vault lists with all their
 * versions, into r. Network I/O: call without the module lock, with
 * tok->load_lock held. */
CK_RV azkv_token_read_keys(azkv_token *tok, azkv_token_read *r);
/* One older version into r unless there; a version the vault does not
 * have is skipped with a warning when the configuration names keys. */
CK_RV azkv_token_read_version(azkv_token *tok, azkv_token_read *r, const char *name,
                              const char *version);
int azkv_token_read_has_kid(const azkv_token_read *r, const char *kid);
void azkv_token_read_free(azkv_token_read *r);

CK_RV azkv_token_init(azkv_token *tok, CK_SLOT_ID id, const azkv_vault_config *vault);
void azkv_token_cleanup(azkv_token *tok);

#endif
