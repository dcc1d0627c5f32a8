/* C_EncryptInit/C_Encrypt and C_DecryptInit/C_Decrypt: the session side of
 * cipher operations; the mechanisms themselves are in op_*.c. */
#include "log.h"
#include "module.h"
#include "object.h"
#include "rv.h"
#include "session.h"

static CK_RV cipher_init(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key,
                         int encrypt)
{
	AZKV_REQUIRE_INIT();
	const char *fn = encrypt ? "C_EncryptInit" : "C_DecryptInit";
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
		goto out;
	}
	if (mechanism == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	azkv_cipher_op *op = encrypt ? &s->encrypt : &s->decrypt;
	if (op->ops != NULL) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	const azkv_cipher_ops *ops = azkv_cipher_find(mechanism->mechanism);
	if (ops == NULL) {
		azkv_error("%s: mechanism 0x%lx is not supported", fn,
		           (unsigned long)mechanism->mechanism);
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	const azkv_object *obj = azkv_objects_get(key);
	if (obj == NULL || obj->slot != s->slot) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (!azkv_attrs_bool(&obj->attrs, encrypt ? CKA_ENCRYPT : CKA_DECRYPT, CK_FALSE)) {
		azkv_error("%s: key %lu does not allow %s", fn, (unsigned long)key,
		           encrypt ? "CKA_ENCRYPT" : "CKA_DECRYPT");
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	rv = ops->init(&op->ctx, mechanism, obj, encrypt);
	if (rv == CKR_OK)
		op->ops = ops;
out:
	azkv_lock_release(azkv_g.lock);
	return rv;
}

static CK_RV cipher_run(CK_SESSION_HANDLE session, int encrypt, const unsigned char *in,
                        CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len)
{
	AZKV_REQUIRE_INIT();
	CK_RV rv;
	azkv_lock_acquire(azkv_g.lock);
	azkv_session *s = azkv_sessions_get(session);
	if (s == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
		goto out;
	}
	azkv_cipher_op *op = encrypt ? &s->encrypt : &s->decrypt;
	if (op->ops == NULL) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	if ((in == NULL && in_len > 0) || out_len == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		azkv_cipher_op_end(op);
		goto out;
	}
	/* Software operations on copied keys: quick, so done under the lock. */
	rv = op->ops->run(op->ctx, in, in_len, out, out_len);
	/* A length query or a short buffer leaves the operation active. */
	if (!(rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL)))
		azkv_cipher_op_end(op);
out:
	azkv_lock_release(azkv_g.lock);
	return rv;
}

CK_RV C_EncryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return cipher_init(session, mechanism, key, 1);
}

CK_RV C_Encrypt(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len,
                unsigned char *encrypted, CK_ULONG *encrypted_len)
{
	return cipher_run(session, 1, data, data_len, encrypted, encrypted_len);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return cipher_init(session, mechanism, key, 0);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE session, unsigned char *encrypted, CK_ULONG encrypted_len,
                unsigned char *data, CK_ULONG *data_len)
{
	return cipher_run(session, 0, encrypted, encrypted_len, data, data_len);
}
