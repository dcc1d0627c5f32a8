/* C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey and C_DigestFinal:
 * message digests of the mechanism table's CKF_DIGEST rows (SHA-1, SHA-2,
 * SHA-3), computed locally with OpenSSL, as SoftHSMv2 does.
 *
 * Not through the operation frame (frame.h), which is for operations with
 * a key, but by the same slot rules (operation.h): the state lives in the
 * session's digest slot, each call takes it out for its duration and
 * hashes without the module lock, then gives it back (the operation goes
 * on) or frees it (it ended). As PKCS#11 3.0 (5.10) has it: a NULL
 * mechanism at C_DigestInit ends the active operation; a NULL digest asks
 * the length and a short buffer is CKR_BUFFER_TOO_SMALL with the length,
 * both leaving the operation going; C_Digest after C_DigestUpdate or
 * C_DigestKey (which C_Digest "cannot be used to terminate"), and those
 * or C_DigestFinal after a C_Digest that asked the length, are
 * CKR_OPERATION_ACTIVE and end it, as the frame answers (azkv_op_form,
 * operation.h); any other error of C_Digest,
 * C_DigestUpdate and C_DigestFinal ends the operation. A refused
 * C_DigestKey digests nothing and leaves the operation as it was, as
 * SoftHSMv2 does (the spec does not say it ends it). */
#include <openssl/evp.h>
#include <stdlib.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "session.h"

typedef struct digest_state {
	const azkv_mech *mech;
	EVP_MD_CTX *ctx;   /* the data (and key values) digested so far */
	CK_ULONG len;      /* the digest's length */
	azkv_op_form form; /* the form taken: a call of the other is refused */
} digest_state;

static void state_free(void *p)
{
	digest_state *st = p;
	if (st == NULL)
		return;
	EVP_MD_CTX_free(st->ctx);
	free(st);
}

/* No wipe: the state keeps no bytes of its own. What was digested is in
 * the EVP_MD_CTX (its last partial block), which a forked child leaves as
 * it is (fork.c). */
static const azkv_op_state_ops state_ops = {.free = state_free, .wipe = NULL};

/* A new state for mechanism m, or why not (logged). */
static CK_RV state_new(const CK_MECHANISM *m, digest_state **out)
{
	const azkv_mech *mech = azkv_mech_find(m->mechanism);
	if (mech == NULL || !(mech->info.flags & CKF_DIGEST)) {
		azkv_error("C_DigestInit: mechanism 0x%lx is not a digest (SHA-1, SHA-224, "
		           "SHA-256, SHA-384, SHA-512, SHA3-224/256/384/512)",
		           (unsigned long)m->mechanism);
		return CKR_MECHANISM_INVALID;
	}
	if (m->pParameter != NULL || m->ulParameterLen != 0) {
		azkv_error("C_DigestInit: %s takes no parameter", mech->name);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	digest_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return CKR_HOST_MEMORY;
	const EVP_MD *md = azkv_mech_md(mech->type);
	st->mech = mech;
	if (md == NULL || (st->ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(st->ctx, md, NULL)) {
		azkv_error("C_DigestInit: OpenSSL cannot start %s", mech->name);
		state_free(st);
		return CKR_FUNCTION_FAILED;
	}
	st->len = (CK_ULONG)EVP_MD_get_size(md);
	*out = st;
	return CKR_OK;
}

CK_RV C_DigestInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism)
{
	AZKV_REQUIRE_INIT();
	digest_state *st = NULL;
	azkv_session *s;
	azkv_op *op;
	azkv_lock_acquire(azkv_g.lock);
	CK_RV rv =
	        azkv_op_init_begin(session, AZKV_OPER_DIGEST, mechanism, "C_DigestInit", &s, &op);
	if (rv == CKR_OK && op != NULL && (rv = state_new(mechanism, &st)) == CKR_OK)
		azkv_op_start(op, st, &state_ops);
	azkv_lock_release(azkv_g.lock);
	return rv;
}

/* Adds in to the digest; fn names the call for the log. */
static CK_RV state_update(digest_state *st, const unsigned char *in, size_t in_len, const char *fn)
{
	if (in_len > 0 && !EVP_DigestUpdate(st->ctx, in, in_len)) {
		azkv_error("%s: OpenSSL failed to hash with %s", fn, st->mech->name);
		return CKR_FUNCTION_FAILED;
	}
	return CKR_OK;
}

/* Whether out (*out_len bytes) can take the digest: CKR_OK, or a length
 * query's or a short buffer's answer with the length (*keep set: the
 * operation goes on). *done is set when the caller is to stop there. */
static CK_RV out_check(const digest_state *st, const unsigned char *out, CK_ULONG *out_len,
                       int *keep, int *done)
{
	CK_RV rv = CKR_OK;
	*done = *keep = azkv_op_out_short(out, out_len, st->len, &rv);
	return rv;
}

static CK_RV state_final(digest_state *st, unsigned char *out, CK_ULONG *out_len, const char *fn)
{
	unsigned int n = 0;
	if (!EVP_DigestFinal_ex(st->ctx, out, &n)) {
		azkv_error("%s: OpenSSL failed to hash with %s", fn, st->mech->name);
		return CKR_FUNCTION_FAILED;
	}
	*out_len = n;
	return CKR_OK;
}

/* The start of every call after C_DigestInit: takes the session's digest
 * operation out for the call (logged when there is none). */
static CK_RV take(CK_SESSION_HANDLE session, const char *fn, digest_state **st)
{
	void *p = NULL;
	CK_RV rv = azkv_session_op_take(session, AZKV_OPER_DIGEST, fn, &p);
	*st = p;
	return rv;
}

/* CKR_OK when a call of form call may go on in st (operation.h). */
static CK_RV form_check(const digest_state *st, azkv_op_form call, const char *fn)
{
	return azkv_op_form_check(st->form, call, fn, "C_Digest", "C_DigestFinal");
}

/* Ends the call: gives the state back (keep) or frees it. */
static CK_RV give_back(CK_SESSION_HANDLE session, digest_state *st, int keep, CK_RV rv)
{
	return azkv_session_op_return(session, AZKV_OPER_DIGEST, st, &state_ops, keep, rv);
}

CK_RV C_Digest(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len,
               unsigned char *digest, CK_ULONG *digest_len)
{
	AZKV_REQUIRE_INIT();
	const char *fn = "C_Digest";
	digest_state *st;
	int keep = 0, done = 0;
	CK_RV rv = take(session, fn, &st);
	if (rv != CKR_OK)
		return rv;
	if ((data == NULL && data_len > 0) || digest_len == NULL) {
		azkv_error("%s: NULL data with a length, or NULL digest length", fn);
		rv = CKR_ARGUMENTS_BAD;
	} else if ((rv = form_check(st, AZKV_FORM_SINGLE, fn)) == CKR_OK &&
	           (rv = out_check(st, digest, digest_len, &keep, &done)) == CKR_OK && !done &&
	           (rv = state_update(st, data, data_len, fn)) == CKR_OK) {
		rv = state_final(st, digest, digest_len, fn);
	}
	if (keep)
		st->form = AZKV_FORM_SINGLE;
	return give_back(session, st, keep, rv);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len)
{
	AZKV_REQUIRE_INIT();
	digest_state *st;
	CK_RV rv = take(session, "C_DigestUpdate", &st);
	if (rv != CKR_OK)
		return rv;
	if (part == NULL && part_len > 0) {
		azkv_error("C_DigestUpdate: NULL part with a length");
		rv = CKR_ARGUMENTS_BAD;
	} else if ((rv = form_check(st, AZKV_FORM_MULTI, "C_DigestUpdate")) == CKR_OK) {
		rv = state_update(st, part, part_len, "C_DigestUpdate");
		st->form = AZKV_FORM_MULTI;
	}
	return give_back(session, st, rv == CKR_OK, rv);
}

/* The value of key (a handle seen from session) for C_DigestKey, or why
 * not (logged). Needs the module lock; the value stays the object's. */
static CK_RV digestible_value(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key,
                              const azkv_bytes **value)
{
	const char *fn = "C_DigestKey";
	CK_RV rv;
	const azkv_session *s = azkv_session_find(session, fn, &rv);
	const azkv_object *obj =
	        s != NULL ? azkv_session_object(s, key, CKR_KEY_HANDLE_INVALID, fn, &rv) : NULL;
	if (obj == NULL)
		return rv;
	if (obj->cls != CKO_SECRET_KEY && obj->cls != CKO_PUBLIC_KEY &&
	    obj->cls != CKO_PRIVATE_KEY) {
		azkv_error("%s: object %lu is not a key (class 0x%lx)", fn, (unsigned long)key,
		           (unsigned long)obj->cls);
		return CKR_KEY_HANDLE_INVALID;
	}
	if (obj->vkey != NULL) {
		azkv_error("%s: key %lu ('%s') is a vault key: its value stays in the vault, so "
		           "the module cannot digest it",
		           fn, (unsigned long)key, obj->vkey->key.name);
		return CKR_KEY_INDIGESTIBLE;
	}
	if (obj->cls != CKO_SECRET_KEY || obj->value.len == 0) {
		azkv_error("%s: key %lu is not a secret key with a value the module holds", fn,
		           (unsigned long)key);
		return CKR_KEY_INDIGESTIBLE;
	}
	*value = &obj->value;
	return CKR_OK;
}

/* The key's value is digested under the module lock (a few bytes), so
 * that it is never copied out of its object. */
CK_RV C_DigestKey(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key)
{
	AZKV_REQUIRE_INIT();
	digest_state *st;
	const azkv_bytes *value = NULL;
	CK_RV rv = take(session, "C_DigestKey", &st);
	if (rv != CKR_OK)
		return rv;
	if ((rv = form_check(st, AZKV_FORM_MULTI, "C_DigestKey")) != CKR_OK)
		return give_back(session, st, 0, rv);
	int keep = 1;
	azkv_lock_acquire(azkv_g.lock);
	if ((rv = digestible_value(session, key, &value)) == CKR_OK) {
		rv = state_update(st, value->data, value->len, "C_DigestKey");
		keep = rv == CKR_OK;
		st->form = AZKV_FORM_MULTI;
	}
	azkv_lock_release(azkv_g.lock);
	return give_back(session, st, keep, rv);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE session, unsigned char *digest, CK_ULONG *digest_len)
{
	AZKV_REQUIRE_INIT();
	const char *fn = "C_DigestFinal";
	digest_state *st;
	int keep = 0, done = 0;
	CK_RV rv = take(session, fn, &st);
	if (rv != CKR_OK)
		return rv;
	if (digest_len == NULL) {
		azkv_error("%s: NULL digest length", fn);
		rv = CKR_ARGUMENTS_BAD;
	} else if ((rv = form_check(st, AZKV_FORM_MULTI, fn)) == CKR_OK &&
	           (rv = out_check(st, digest, digest_len, &keep, &done)) == CKR_OK && !done) {
		rv = state_final(st, digest, digest_len, fn);
	}
	return give_back(session, st, keep, rv);
}
