/* C_SignInit .. C_SignFinal and C_VerifyInit .. C_VerifyFinal with vault
 * keys. A signature is made in the vault (its sign operation, with a
 * digest and a JWS alg: the private key never leaves it) and checked
 * locally with the public key (no vault transaction). The hashing
 * mechanisms (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA384, ...) hash here, in
 * one or many parts; the raw ones (CKM_RSA_PKCS, CKM_RSA_PKCS_PSS,
 * CKM_ECDSA) take a digest or DigestInfo, single-part. The mechanism
 * families are in op_*.c behind azkv_sig_ops.
 *
 * PKCS#11's length rules hold: a NULL signature buffer asks the length
 * and a short one gives CKR_BUFFER_TOO_SMALL, neither ending the
 * operation nor costing a vault transaction (the length is known from the
 * key). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "mech.h"
#include "module.h"
#include "object.h"
#include "rv.h"
#include "session.h"
#include "token.h"

typedef struct sig_state {
	const azkv_sig_ops *ops;
	void *fctx; /* the family's state */
	int sign;
	const EVP_MD *md;   /* hashed here (multi-part mechanisms); NULL for raw ones */
	EVP_MD_CTX *mdctx;  /* the data so far */
	size_t sig_len;     /* the signature's length */
	int multi;          /* an update was made: single-part calls are refused */
	azkv_vault_key *vk; /* a reference, dropped under the module lock */
} sig_state;

/* Under the module lock. */
static void state_free(void *p)
{
	sig_state *st = p;
	if (st == NULL)
		return;
	if (st->ops != NULL)
		st->ops->free(st->fctx);
	EVP_MD_CTX_free(st->mdctx);
	azkv_vault_key_unref(st->vk);
	free(st);
}

/* Nothing to wipe in a forked child: no key bytes (the vault signs; the
 * public key verifies), only the digest state of the data so far. */
static const azkv_op_state_ops state_ops = {.free = state_free, .wipe = NULL};

enum call { RUN, UPDATE, FINAL };

static const char *call_name(int sign, enum call call)
{
	static const char *const names[2][3] = {
	        {"C_Verify", "C_VerifyUpdate", "C_VerifyFinal"},
	        {"C_Sign", "C_SignUpdate", "C_SignFinal"},
	};
	return names[sign ? 1 : 0][call];
}

static CK_RV sig_init(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key,
                      int sign)
{
	AZKV_REQUIRE_INIT();
	const char *fn = sign ? "C_SignInit" : "C_VerifyInit";
	sig_state *st = NULL;
	CK_RV rv;
	azkv_session *s;
	azkv_op *op;
	const azkv_object *obj;
	azkv_lock_acquire(azkv_g.lock);
	rv = azkv_op_init_begin(session, sign ? AZKV_OPER_SIGN : AZKV_OPER_VERIFY, mechanism, fn,
	                        &s, &op);
	if (rv != CKR_OK || op == NULL)
		goto out;
	const azkv_sig_ops *ops = azkv_sig_find(mechanism->mechanism);
	if (ops == NULL) {
		azkv_error("%s: mechanism 0x%lx is not a signature mechanism of this module", fn,
		           (unsigned long)mechanism->mechanism);
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	if ((rv = azkv_op_init_key(s, key, sign ? CKA_SIGN : CKA_VERIFY, fn, &obj)) != CKR_OK)
		goto out;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	st->sign = sign;
	if ((rv = ops->init(&st->fctx, mechanism, obj, sign, &st->md, &st->sig_len)) != CKR_OK)
		goto out;
	st->ops = ops;
	if ((rv = azkv_key_mech_check(obj, key, mechanism->mechanism, fn)) != CKR_OK)
		goto out;
	if (st->md != NULL && ((st->mdctx = EVP_MD_CTX_new()) == NULL ||
	                       !EVP_DigestInit_ex(st->mdctx, st->md, NULL))) {
		azkv_error("%s: OpenSSL failed", fn);
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	/* The families have checked that the key is a vault key. */
	st->vk = obj->vkey;
	azkv_vault_key_ref(st->vk);
	azkv_op_start(op, st, &state_ops);
	st = NULL;
out:
	state_free(st);
	azkv_lock_release(azkv_g.lock);
	return rv;
}

/* Signs in (a digest computed here, or the raw mechanism's input) into
 * sig. *keep 1 when the operation goes on (a length query, a short
 * buffer). */
static CK_RV sign_input(sig_state *st, const unsigned char *in, size_t in_len, unsigned char *sig,
                        CK_ULONG *sig_len, int *keep)
{
	azkv_bytes digest = {0}, vault_sig = {0};
	const char *alg = NULL;
	azkv_err err;
	CK_RV rv = st->ops->vault_input(st->fctx, in, in_len, &alg, &digest);
	if (rv != CKR_OK)
		goto out;
	if (sig == NULL || *sig_len < st->sig_len) {
		rv = sig == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		*sig_len = st->sig_len;
		*keep = 1;
		goto out;
	}
	azkv_token *tok = azkv_token_get(st->vk->slot);
	if (azkv_kv_key_operation(tok->kv, st->vk->key.name, st->vk->key.version, "sign", alg,
	                          digest.data, digest.len, &vault_sig, &err) != AZKV_OK) {
		char what[256];
		snprintf(what, sizeof(what), "C_Sign with key '%s' version %s (%s)",
		         st->vk->key.name, st->vk->key.version, alg);
		rv = azkv_rv_from_err(&err, AZKV_CTX_SIGN, what);
		goto out;
	}
	if ((rv = st->ops->from_vault(st->fctx, vault_sig.data, vault_sig.len, sig)) != CKR_OK)
		goto out;
	*sig_len = st->sig_len;
	azkv_debug("C_Sign: %s with '%s' version %s", alg, st->vk->key.name, st->vk->key.version);
out:
	azkv_bytes_free(&digest);
	azkv_bytes_free(&vault_sig);
	return rv;
}

/* The digest of the data so far (multi-part), leaving mdctx spent. */
static CK_RV finish_digest(sig_state *st, const char *fn, unsigned char *md, unsigned int *md_len)
{
	if (!EVP_DigestFinal_ex(st->mdctx, md, md_len)) {
		azkv_error("%s: OpenSSL failed", fn);
		return CKR_FUNCTION_FAILED;
	}
	return CKR_OK;
}

/* One call of either kind. in/in_len: the data (RUN, UPDATE); sig/sig_len:
 * the signature out (sign) or in (verify, *sig_len its length). */
static CK_RV sig_call(CK_SESSION_HANDLE session, int sign, enum call call, const unsigned char *in,
                      CK_ULONG in_len, unsigned char *sig, CK_ULONG *sig_len)
{
	AZKV_REQUIRE_INIT();
	const char *fn = call_name(sign, call);
	azkv_op_kind kind = sign ? AZKV_OPER_SIGN : AZKV_OPER_VERIFY;
	void *p = NULL;
	CK_RV rv = azkv_session_op_take(session, kind, fn, &p);
	if (rv != CKR_OK)
		return rv;
	sig_state *st = p;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int keep = 0;

	if ((in == NULL && in_len > 0) || (call != UPDATE && sig_len == NULL) ||
	    (!sign && call != UPDATE && sig == NULL)) {
		azkv_error("%s: NULL data or signature", fn);
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (call == RUN && st->multi) {
		azkv_error("%s: a multi-part operation is under way; it ends with %s", fn,
		           call_name(sign, FINAL));
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if (call != RUN && st->md == NULL) {
		azkv_error("%s: the mechanism takes a digest and is single-part only (%s)", fn,
		           call_name(sign, RUN));
		rv = CKR_FUNCTION_NOT_SUPPORTED;
		goto out;
	}
	if (call == UPDATE) {
		if (in_len > 0 && !EVP_DigestUpdate(st->mdctx, in, in_len)) {
			azkv_error("%s: OpenSSL failed", fn);
			rv = CKR_FUNCTION_FAILED;
			goto out;
		}
		st->multi = 1;
		keep = 1;
		goto out;
	}
	if (sign && call == FINAL && (sig == NULL || *sig_len < st->sig_len)) {
		/* Before the digest is finished, so that the data stays. */
		rv = sig == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
		*sig_len = st->sig_len;
		keep = 1;
		goto out;
	}
	/* What the family takes: the digest of the data, or the input. */
	const unsigned char *what = in;
	size_t what_len = in_len;
	if (st->md != NULL) {
		if (call == RUN && !EVP_Digest(in, in_len, md, &md_len, st->md, NULL)) {
			azkv_error("%s: OpenSSL failed", fn);
			rv = CKR_FUNCTION_FAILED;
			goto out;
		}
		if (call == FINAL && (rv = finish_digest(st, fn, md, &md_len)) != CKR_OK)
			goto out;
		what = md;
		what_len = md_len;
	}
	if (sign)
		rv = sign_input(st, what, what_len, sig, sig_len, &keep);
	else
		rv = st->ops->verify(st->fctx, st->vk->pub, what, what_len, sig, *sig_len);
out:
	OPENSSL_cleanse(md, sizeof(md));
	return azkv_session_op_return(session, kind, st, &state_ops, keep, rv);
}

CK_RV C_SignInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return sig_init(session, mechanism, key, 1);
}

CK_RV C_Sign(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len, unsigned char *sig,
             CK_ULONG *sig_len)
{
	return sig_call(session, 1, RUN, data, data_len, sig, sig_len);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len)
{
	return sig_call(session, 1, UPDATE, part, part_len, NULL, NULL);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE session, unsigned char *sig, CK_ULONG *sig_len)
{
	return sig_call(session, 1, FINAL, NULL, 0, sig, sig_len);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return sig_init(session, mechanism, key, 0);
}

CK_RV C_Verify(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len,
               unsigned char *sig, CK_ULONG sig_len)
{
	return sig_call(session, 0, RUN, data, data_len, sig, &sig_len);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len)
{
	return sig_call(session, 0, UPDATE, part, part_len, NULL, NULL);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE session, unsigned char *sig, CK_ULONG sig_len)
{
	return sig_call(session, 0, FINAL, NULL, 0, sig, &sig_len);
}
