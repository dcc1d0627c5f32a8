#include "operation.h"

#include <stddef.h>

#include "log.h"

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

CK_RV azkv_op_form_check(azkv_op_form form, azkv_op_form call, const char *fn,
                         const char *end_single, const char *end_multi)
{
	if (form == AZKV_FORM_OPEN || form == call)
		return CKR_OK;
	if (form == AZKV_FORM_MULTI)
		azkv_error("%s: a multi-part operation is under way; it ends with %s", fn,
		           end_multi);
	else
		azkv_error("%s: a single-part operation is under way; it ends with %s", fn,
		           end_single);
	return CKR_OPERATION_ACTIVE;
}

int azkv_op_out_short(const unsigned char *out, CK_ULONG *out_len, size_t need, CK_RV *rv)
{
	if (out != NULL && *out_len >= need)
		return 0;
	*rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
	*out_len = need;
	return 1;
}
