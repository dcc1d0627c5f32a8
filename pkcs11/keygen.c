/* C_GenerateKey for session AES and generic secret keys, and the random
 * number functions; both in software from OpenSSL's DRBG. Each checks its
 * session before anything else it is given (5.1.7). */
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "session.h"

#define MAX_SECRET_LEN 512

/* The checks of a C_GenerateKey request that need no lock: the
 * mechanism, and the key's length (into *len) and type in the template. */
static CK_RV keygen_request(const CK_MECHANISM *mechanism, const CK_OBJECT_HANDLE *key,
                            const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ULONG *len)
{
	int present = 0;
	CK_RV rv;
	if (mechanism == NULL || key == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = azkv_tmpl_check(tmpl, count, "C_GenerateKey")) != CKR_OK)
		return rv;
	const azkv_mech *mech = azkv_mech_find(mechanism->mechanism);
	if (mech == NULL || !(mech->info.flags & CKF_GENERATE)) {
		azkv_error("C_GenerateKey: mechanism 0x%lx is not supported",
		           (unsigned long)mechanism->mechanism);
		return CKR_MECHANISM_INVALID;
	}
	if ((rv = azkv_tmpl_ulong(tmpl, count, CKA_VALUE_LEN, len, &present)) != CKR_OK)
		return rv;
	if (!present) {
		azkv_error("C_GenerateKey: the template needs CKA_VALUE_LEN");
		return CKR_TEMPLATE_INCOMPLETE;
	}
	if (*len == 0 || *len > MAX_SECRET_LEN) {
		azkv_error("C_GenerateKey: CKA_VALUE_LEN %lu is out of range", (unsigned long)*len);
		return CKR_KEY_SIZE_RANGE;
	}
	CK_ULONG kt;
	if ((rv = azkv_tmpl_ulong(tmpl, count, CKA_KEY_TYPE, &kt, &present)) != CKR_OK)
		return rv;
	if (present && kt != mech->key_type) {
		azkv_error("C_GenerateKey: CKA_KEY_TYPE 0x%lx does not match the mechanism",
		           (unsigned long)kt);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	return CKR_OK;
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *tmpl,
                    CK_ULONG count, CK_OBJECT_HANDLE *key)
{
	AZKV_REQUIRE_INIT();
	unsigned char value[MAX_SECRET_LEN];
	CK_ULONG len = 0;
	azkv_object *obj = NULL;
	CK_RV rv = keygen_request(mechanism, key, tmpl, count, &len);
	if (rv != CKR_OK)
		return azkv_session_precedes(session, "C_GenerateKey", rv);

	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_session_find(session, "C_GenerateKey", &rv);
	if (s == NULL)
		goto out;
	if (RAND_priv_bytes(value, (int)len) != 1) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	rv = azkv_secret_key_new(s->slot, session, tmpl, count, value, len, 1, mechanism->mechanism,
	                         &obj);
	if (rv != CKR_OK)
		goto out;
	if ((rv = azkv_session_object_add(obj, "C_GenerateKey")) != CKR_OK)
		goto out;
	*key = obj->handle;
	obj = NULL;
out:
	azkv_lock_release(azkv_g.lock);
	OPENSSL_cleanse(value, sizeof(value));
	azkv_object_free(obj);
	return rv;
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG len)
{
	AZKV_REQUIRE_INIT();
	CK_SLOT_ID slot;
	CK_RV rv = azkv_session_slot(session, "C_GenerateRandom", &slot);
	if (rv != CKR_OK)
		return rv;
	if (data == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	/* RAND_bytes takes an int; fill large requests in pieces. */
	while (len > 0) {
		int chunk = len > 1u << 20 ? 1 << 20 : (int)len;
		if (RAND_bytes(data, chunk) != 1)
			return CKR_FUNCTION_FAILED;
		data += chunk;
		len -= (CK_ULONG)chunk;
	}
	return CKR_OK;
}

CK_RV C_SeedRandom(CK_SESSION_HANDLE session, unsigned char *seed, CK_ULONG len)
{
	AZKV_REQUIRE_INIT();
	CK_SLOT_ID slot;
	CK_RV rv = azkv_session_slot(session, "C_SeedRandom", &slot);
	if (rv != CKR_OK)
		return rv;
	if (seed == NULL) {
		azkv_error("C_SeedRandom: the seed is NULL");
		return CKR_ARGUMENTS_BAD;
	}
	/* OpenSSL's DRBG seeds itself from the OS; a caller's seed is mixed in
	 * as additional input (credited with no entropy), as SoftHSMv2 takes
	 * one: it can add to the generator's state, never weaken it. */
	while (len > 0) {
		int chunk = len > 1u << 20 ? 1 << 20 : (int)len;
		RAND_add(seed, chunk, 0.0);
		seed += chunk;
		len -= (CK_ULONG)chunk;
	}
	return CKR_OK;
}
