#include "frame.h"

#include <stdlib.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "session.h"
#include "token.h"

typedef struct frame_state {
	const azkv_mech *mech;
	const azkv_op_ops *ops;
	void *fctx;        /* the family's state */
	azkv_op_form form; /* the form taken: a call of the other is refused */
} frame_state;

static void state_free(void *p)
{
	frame_state *st = p;
	if (st == NULL)
		return;
	if (st->ops != NULL)
		st->ops->free(st->fctx);
	free(st);
}

static void state_wipe(void *p)
{
	frame_state *st = p;
	if (st->ops->wipe != NULL)
		st->ops->wipe(st->fctx);
}

static const azkv_op_state_ops state_ops = {.free = state_free, .wipe = state_wipe};

/* Init, then the three calls. */
static const char *const names[4][4] = {
        [AZKV_OPER_ENCRYPT] = {"C_EncryptInit", "C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal"},
        [AZKV_OPER_DECRYPT] = {"C_DecryptInit", "C_Decrypt", "C_DecryptUpdate", "C_DecryptFinal"},
        [AZKV_OPER_SIGN] = {"C_SignInit", "C_Sign", "C_SignUpdate", "C_SignFinal"},
        [AZKV_OPER_VERIFY] = {"C_VerifyInit", "C_Verify", "C_VerifyUpdate", "C_VerifyFinal"},
};

static const char *call_name(azkv_op_kind kind, azkv_op_call call)
{
	return names[kind][1 + call];
}

static CK_ATTRIBUTE_TYPE usage_of(azkv_op_kind kind)
{
	static const CK_ATTRIBUTE_TYPE usage[] = {
	        [AZKV_OPER_ENCRYPT] = CKA_ENCRYPT,
	        [AZKV_OPER_DECRYPT] = CKA_DECRYPT,
	        [AZKV_OPER_SIGN] = CKA_SIGN,
	        [AZKV_OPER_VERIFY] = CKA_VERIFY,
	};
	return usage[kind];
}

static int is_cipher(azkv_op_kind kind)
{
	return kind == AZKV_OPER_ENCRYPT || kind == AZKV_OPER_DECRYPT;
}

CK_RV azkv_frame_init(CK_SESSION_HANDLE session, azkv_op_kind kind, const CK_MECHANISM *mechanism,
                      CK_OBJECT_HANDLE key)
{
	const char *fn = names[kind][0];
	AZKV_REQUIRE_INIT_AS(fn);
	CK_ATTRIBUTE_TYPE usage = usage_of(kind);
	frame_state *st = NULL;
	CK_RV rv;
	azkv_session *s;
	azkv_op *op;
	const azkv_object *obj;
	azkv_lock_acquire(azkv_g.lock);
	rv = azkv_op_init_begin(session, kind, mechanism, fn, &s, &op);
	if (rv != CKR_OK || op == NULL)
		goto out;
	const azkv_mech *mech = azkv_mech_find(mechanism->mechanism);
	const azkv_op_ops *ops = mech != NULL ? azkv_mech_ops(mech, kind) : NULL;
	if (ops == NULL) {
		azkv_error("%s: mechanism 0x%lx is not supported for this call%s", fn,
		           (unsigned long)mechanism->mechanism,
		           is_cipher(kind) ? "" : "; " AZKV_VAULT_SIGNS);
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	if ((rv = azkv_mech_vault_allows(azkv_token_get(s->slot)->vault, mech->type, usage, fn)) !=
	    CKR_OK)
		goto out;
	if ((rv = azkv_key_for_op(s->slot, key, mech, usage, fn, &obj)) != CKR_OK)
		goto out;
	if (obj->cls == CKO_SECRET_KEY && obj->vkey != NULL) {
		/* Its key_ops may allow encrypt (CKA_ENCRYPT), but the HSM's AES
		 * encryption (AES-GCM, AES-CBC) is not offered here, nor a MAC
		 * (the module's are local, with the key's bytes). */
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
	st->mech = mech;
	if ((rv = ops->init(&st->fctx, mech, mechanism, obj, kind)) != CKR_OK)
		goto out;
	st->ops = ops;
	azkv_op_start(op, st, &state_ops);
	st = NULL;
out:
	state_free(st);
	azkv_lock_release(azkv_g.lock);
	return rv;
}

/* CKR_OK when the call may go to the family; else why not, logged. */
static CK_RV call_check(const frame_state *st, azkv_op_kind kind, azkv_op_call call,
                        const unsigned char *in, CK_ULONG in_len, const unsigned char *out,
                        const CK_ULONG *out_len)
{
	const char *fn = call_name(kind, call);
	/* Sign and verify updates have no output; a signature to verify is
	 * input. */
	int no_out = !is_cipher(kind) && call == AZKV_CALL_UPDATE;
	if ((in == NULL && in_len > 0) || (!no_out && out_len == NULL) ||
	    (kind == AZKV_OPER_VERIFY && !no_out && out == NULL)) {
		azkv_error("%s: NULL data, output length or signature", fn);
		return CKR_ARGUMENTS_BAD;
	}
	CK_RV rv = azkv_op_form_check(
	        st->form, call == AZKV_CALL_RUN ? AZKV_FORM_SINGLE : AZKV_FORM_MULTI, fn,
	        call_name(kind, AZKV_CALL_RUN), call_name(kind, AZKV_CALL_FINAL));
	if (rv != CKR_OK)
		return rv;
	if (call != AZKV_CALL_RUN && st->ops->update == NULL) {
		azkv_error("%s: %s is single-part only (%s)", fn, st->mech->name,
		           call_name(kind, AZKV_CALL_RUN));
		return CKR_FUNCTION_NOT_SUPPORTED;
	}
	return CKR_OK;
}

CK_RV azkv_frame_call(CK_SESSION_HANDLE session, azkv_op_kind kind, azkv_op_call call,
                      const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                      CK_ULONG *out_len)
{
	AZKV_REQUIRE_INIT_AS(call_name(kind, call));
	void *p = NULL;
	CK_RV rv = azkv_session_op_take(session, kind, call_name(kind, call), &p);
	if (rv != CKR_OK)
		return rv;
	frame_state *st = p;
	int keep = 0;
	if ((rv = call_check(st, kind, call, in, in_len, out, out_len)) == CKR_OK) {
		if (call == AZKV_CALL_RUN)
			rv = st->ops->run(st->fctx, in, in_len, out, out_len);
		else if (call == AZKV_CALL_UPDATE)
			rv = st->ops->update(st->fctx, in, in_len, out, out_len);
		else
			rv = st->ops->final(st->fctx, out, out_len);
		/* A length query or a short buffer leaves the operation as it
		 * was; an update that worked leaves it going; anything else
		 * ends it. */
		keep = rv == CKR_BUFFER_TOO_SMALL ||
		       (rv == CKR_OK && (out == NULL || call == AZKV_CALL_UPDATE));
		if (rv == CKR_OK && call == AZKV_CALL_UPDATE && (out != NULL || !is_cipher(kind)))
			st->form = AZKV_FORM_MULTI;
		else if (keep && call == AZKV_CALL_RUN)
			st->form = AZKV_FORM_SINGLE;
	}
	return azkv_session_op_return(session, kind, st, &state_ops, keep, rv);
}
