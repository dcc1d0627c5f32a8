/* C_EncryptInit .. C_EncryptFinal and C_DecryptInit .. C_DecryptFinal: the
 * session side of cipher operations; the mechanisms are in op_*.c behind
 * azkv_cipher_ops. Calls run without the module lock (RSA decryption is a
 * vault request): the operation's state is taken out of the session for
 * the call (operation.h). */
#include <stdlib.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "session.h"
#include "token.h"

typedef struct cipher_state {
	const azkv_cipher_ops *ops;
	void *fctx; /* the family's state */
	int multi;  /* an update consumed input: single-part calls are refused */
} cipher_state;

static void state_free(void *p)
{
	cipher_state *st = p;
	if (st == NULL)
		return;
	st->ops->free(st->fctx);
	free(st);
}

static void state_wipe(void *p)
{
	cipher_state *st = p;
	st->ops->wipe(st->fctx);
}

static const azkv_op_state_ops state_ops = {.free = state_free, .wipe = state_wipe};

enum call { RUN, UPDATE, FINAL };

static const char *call_name(int encrypt, enum call call)
{
	static const char *const names[2][3] = {
	        {"C_Decrypt", "C_DecryptUpdate", "C_DecryptFinal"},
	        {"C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal"},
	};
	return names[encrypt ? 1 : 0][call];
}

static CK_RV cipher_init(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key,
                         int encrypt)
{
	AZKV_REQUIRE_INIT();
	const char *fn = encrypt ? "C_EncryptInit" : "C_DecryptInit";
	cipher_state *st = NULL;
	CK_RV rv;
	azkv_session *s;
	azkv_op *op;
	const azkv_object *obj;
	azkv_lock_acquire(azkv_g.lock);
	rv = azkv_op_init_begin(session, encrypt ? AZKV_OPER_ENCRYPT : AZKV_OPER_DECRYPT, mechanism,
	                        fn, &s, &op);
	if (rv != CKR_OK || op == NULL)
		goto out;
	const azkv_cipher_ops *ops = azkv_cipher_find(mechanism->mechanism);
	if (ops == NULL) {
		azkv_error("%s: mechanism 0x%lx is not supported", fn,
		           (unsigned long)mechanism->mechanism);
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	if ((rv = azkv_mech_vault_allows(azkv_token_get(s->slot)->vault, mechanism->mechanism,
	                                 encrypt ? CKA_ENCRYPT : CKA_DECRYPT, fn)) != CKR_OK)
		goto out;
	if ((rv = azkv_op_init_key(s, key, encrypt ? CKA_ENCRYPT : CKA_DECRYPT, fn, &obj)) !=
	    CKR_OK)
		goto out;
	if (obj->cls == CKO_SECRET_KEY && obj->vkey != NULL) {
		/* Its key_ops may allow encrypt (CKA_ENCRYPT), but the HSM's AES
		 * encryption (AES-GCM, AES-CBC) is not offered here. */
		azkv_error("%s: key %lu ('%s') is a Managed HSM AES key: the module uses it for "
		           "C_WrapKey and C_UnwrapKey only",
		           fn, (unsigned long)key, obj->vkey->key.name);
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	st->ops = ops;
	if ((rv = ops->init(&st->fctx, mechanism, obj, encrypt)) != CKR_OK)
		goto out;
	if ((rv = azkv_key_mech_check(obj, key, mechanism->mechanism, fn)) != CKR_OK)
		goto out;
	azkv_op_start(op, st, &state_ops);
	st = NULL;
out:
	state_free(st);
	azkv_lock_release(azkv_g.lock);
	return rv;
}

static CK_RV cipher_call(CK_SESSION_HANDLE session, int encrypt, enum call call,
                         const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                         CK_ULONG *out_len)
{
	AZKV_REQUIRE_INIT();
	const char *fn = call_name(encrypt, call);
	azkv_op_kind kind = encrypt ? AZKV_OPER_ENCRYPT : AZKV_OPER_DECRYPT;
	void *p = NULL;
	CK_RV rv = azkv_session_op_take(session, kind, fn, &p);
	if (rv != CKR_OK)
		return rv;
	cipher_state *st = p;
	int keep = 0;

	if ((in == NULL && in_len > 0) || out_len == NULL) {
		azkv_error("%s: NULL input or output length", fn);
		rv = CKR_ARGUMENTS_BAD;
	} else if (call == RUN && st->multi) {
		azkv_error("%s: a multi-part operation is under way; it ends with %s", fn,
		           call_name(encrypt, FINAL));
		rv = CKR_OPERATION_ACTIVE;
	} else if (call != RUN && st->ops->update == NULL) {
		azkv_error("%s: mechanism 0x%lx is single-part only (%s)", fn,
		           (unsigned long)st->ops->mechs[0], call_name(encrypt, RUN));
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	} else {
		if (call == RUN)
			rv = st->ops->run(st->fctx, in, in_len, out, out_len);
		else if (call == UPDATE)
			rv = st->ops->update(st->fctx, in, in_len, out, out_len);
		else
			rv = st->ops->final(st->fctx, out, out_len);
		/* A length query or a short buffer leaves the operation as it
		 * was; an update that worked leaves it going; anything else
		 * ends it. */
		keep = rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL) ||
		       (rv == CKR_OK && call == UPDATE);
		if (rv == CKR_OK && call == UPDATE && out != NULL)
			st->multi = 1;
	}
	return azkv_session_op_return(session, kind, st, &state_ops, keep, rv);
}

CK_RV C_EncryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return cipher_init(session, mechanism, key, 1);
}

CK_RV C_Encrypt(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len,
                unsigned char *encrypted, CK_ULONG *encrypted_len)
{
	return cipher_call(session, 1, RUN, data, data_len, encrypted, encrypted_len);
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len,
                      unsigned char *out, CK_ULONG *out_len)
{
	return cipher_call(session, 1, UPDATE, part, part_len, out, out_len);
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE session, unsigned char *out, CK_ULONG *out_len)
{
	return cipher_call(session, 1, FINAL, NULL, 0, out, out_len);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return cipher_init(session, mechanism, key, 0);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE session, unsigned char *encrypted, CK_ULONG encrypted_len,
                unsigned char *data, CK_ULONG *data_len)
{
	return cipher_call(session, 0, RUN, encrypted, encrypted_len, data, data_len);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len,
                      unsigned char *out, CK_ULONG *out_len)
{
	return cipher_call(session, 0, UPDATE, part, part_len, out, out_len);
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE session, unsigned char *out, CK_ULONG *out_len)
{
	return cipher_call(session, 0, FINAL, NULL, 0, out, out_len);
}
