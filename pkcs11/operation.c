#include "operation.h"

#include <stddef.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "session.h"

CK_RV azkv_op_init_begin(CK_SESSION_HANDLE session, azkv_op_kind kind,
                         const CK_MECHANISM *mechanism, const char *fn, azkv_session **s,
                         azkv_op **op)
{
	CK_RV rv;
	*op = NULL;
	*s = azkv_sessions_get(session);
	if (*s == NULL) {
		azkv_error("%s: session %lu is not open", fn, (unsigned long)session);
		return CKR_SESSION_HANDLE_INVALID;
	}
	azkv_op *slot = azkv_session_op(*s, kind);
	if (mechanism == NULL) {
		/* PKCS#11 3.0: a NULL mechanism ends the active operation. */
		azkv_op_end(slot);
		return CKR_OK;
	}
	if ((rv = azkv_op_check_idle(slot)) != CKR_OK) {
		azkv_error("%s: an operation is already active in session %lu", fn,
		           (unsigned long)session);
		return rv;
	}
	*op = slot;
	return CKR_OK;
}

CK_RV azkv_op_init_key(const azkv_session *s, CK_OBJECT_HANDLE key, CK_ATTRIBUTE_TYPE usage,
                       const char *fn, const azkv_object **obj)
{
	*obj = azkv_objects_get(key);
	if (*obj == NULL || (*obj)->slot != s->slot) {
		azkv_error("%s: key handle %lu is not valid", fn, (unsigned long)key);
		*obj = NULL;
		return CKR_KEY_HANDLE_INVALID;
	}
	return azkv_key_usage_check(*obj, key, usage, fn);
}

CK_RV azkv_op_check_idle(const azkv_op *op)
{
	return op->ctx != NULL || op->busy ? CKR_OPERATION_ACTIVE : CKR_OK;
}

void azkv_op_start(azkv_op *op, void *ctx, const azkv_op_state_ops *state_ops)
{
	op->ctx = ctx;
	op->state_ops = state_ops;
	op->busy = 0;
}

CK_RV azkv_op_take(azkv_op *op, void **ctx)
{
	if (op->busy)
		return CKR_OPERATION_ACTIVE;
	if (op->ctx == NULL)
		return CKR_OPERATION_NOT_INITIALIZED;
	*ctx = op->ctx;
	op->ctx = NULL;
	op->busy = 1;
	return CKR_OK;
}

void azkv_op_return(azkv_op *op, void *ctx, const azkv_op_state_ops *state_ops, int keep)
{
	if (op != NULL) {
		op->busy = 0;
		if (keep && op->ctx == NULL) {
			op->ctx = ctx;
			op->state_ops = state_ops;
			return;
		}
	}
	state_ops->free(ctx);
}

void azkv_op_end(azkv_op *op)
{
	if (op->ctx != NULL)
		op->state_ops->free(op->ctx);
	op->ctx = NULL;
	/* A busy operation's call frees its state when it returns. */
}

void azkv_op_wipe(azkv_op *op)
{
	if (op->ctx != NULL && op->state_ops->wipe != NULL)
		op->state_ops->wipe(op->ctx);
}

azkv_op *azkv_session_op(azkv_session *s, azkv_op_kind kind)
{
	switch (kind) {
	case AZKV_OPER_ENCRYPT:
		return &s->encrypt;
	case AZKV_OPER_DECRYPT:
		return &s->decrypt;
	case AZKV_OPER_SIGN:
		return &s->sign;
	default:
		return &s->verify;
	}
}

CK_RV azkv_session_op_take(CK_SESSION_HANDLE session, azkv_op_kind kind, const char *fn, void **ctx)
{
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		azkv_error("%s: session %lu is not open", fn, (unsigned long)session);
		rv = CKR_SESSION_HANDLE_INVALID;
		goto out;
	}
	rv = azkv_op_take(azkv_session_op(s, kind), ctx);
	if (rv == CKR_OPERATION_NOT_INITIALIZED)
		azkv_error("%s: no operation was initialised in session %lu", fn,
		           (unsigned long)session);
	else if (rv == CKR_OPERATION_ACTIVE)
		azkv_error("%s: another call is using the operation of session %lu", fn,
		           (unsigned long)session);
out:
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV azkv_session_op_return(CK_SESSION_HANDLE session, azkv_op_kind kind, void *ctx,
                             const azkv_op_state_ops *state_ops, int keep, CK_RV rv)
{
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	azkv_op_return(s != NULL ? azkv_session_op(s, kind) : NULL, ctx, state_ops, keep);
	if (s == NULL && rv == CKR_OK) {
		azkv_error("session %lu was closed during the call", (unsigned long)session);
		rv = CKR_SESSION_CLOSED;
	}
	azkv_lock_release(azkv_g.lock);
	return rv;
}
