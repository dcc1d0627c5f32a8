/* An operation slot of a session (encrypt, decrypt, sign, verify,
 * digest): the state of the active operation and who holds it. A call that works
 * without the module lock (a vault request, or local crypto) takes the
 * state out of the slot for its duration and marks the slot busy, so that
 * closing the session meanwhile cannot free state in use, and another
 * C_*Init on the session meanwhile gets CKR_OPERATION_ACTIVE. */
#ifndef AZKV_P11_OPERATION_H
#define AZKV_P11_OPERATION_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

/* How the frame that made an operation's state (frame.c) disposes of it. */
typedef struct azkv_op_state_ops {
	void (*free)(void *ctx); /* frees ctx; called under the module lock */
	/* In a forked child (fork.c), whose copy of ctx is abandoned: wipes in
	 * place the secrets ctx holds (key bytes, buffered data), freeing,
	 * allocating and locking nothing. NULL when the state holds none. */
	void (*wipe)(void *ctx);
} azkv_op_state_ops;

typedef struct azkv_op {
	void *ctx;                          /* the active operation's state; NULL when none */
	const azkv_op_state_ops *state_ops; /* ctx's */
	int busy;                           /* a call holds ctx outside the slot */
} azkv_op;

typedef enum azkv_op_kind {
	AZKV_OPER_ENCRYPT,
	AZKV_OPER_DECRYPT,
	AZKV_OPER_SIGN,
	AZKV_OPER_VERIFY,
	AZKV_OPER_DIGEST, /* C_Digest* (digest.c): no key, not through the frame */
} azkv_op_kind;

/* The form an operation has taken: single-part (a C_Encrypt, C_Digest, ...
 * that asked the length or had too short a buffer, so the operation goes
 * on) or multi-part (an update). Once taken, a call of the other form is
 * CKR_OPERATION_ACTIVE and ends the operation, as google/pkcs11test asks:
 * PKCS#11 defines no mix of the two. */
typedef enum azkv_op_form {
	AZKV_FORM_OPEN,   /* no call has gone on yet */
	AZKV_FORM_SINGLE, /* C_Encrypt, C_Decrypt, C_Sign, C_Verify, C_Digest */
	AZKV_FORM_MULTI,  /* the updates and the final */
} azkv_op_form;

/* CKR_OK when a call of form call may go on in an operation of form
 * *form, else CKR_OPERATION_ACTIVE, logged with fn and the call that ends
 * the operation of the form taken (end_single, end_multi). */
CK_RV azkv_op_form_check(azkv_op_form form, azkv_op_form call, const char *fn,
                         const char *end_single, const char *end_multi);

/* PKCS#11's rule for output of need bytes (5.2), in one place for every
 * family: 1 when out cannot take it now, with *out_len set to need and
 * *rv the answer (CKR_OK for a length query, out NULL; else
 * CKR_BUFFER_TOO_SMALL), the operation going on; 0 when out has room
 * (nothing set). */
int azkv_op_out_short(const unsigned char *out, CK_ULONG *out_len, size_t need, CK_RV *rv);

/* ---- a slot ------------------------------------------------------------
 * All but azkv_op_wipe need the module lock held. */

/* CKR_OK when a new operation may start in op: nothing active. */
CK_RV azkv_op_check_idle(const azkv_op *op);

/* Installs ctx (owned from now on) as the active operation. */
void azkv_op_start(azkv_op *op, void *ctx, const azkv_op_state_ops *state_ops);

/* Takes the active operation's state out of op for a call (op marked
 * busy). CKR_OPERATION_NOT_INITIALIZED when none is active,
 * CKR_OPERATION_ACTIVE when another call holds it. */
CK_RV azkv_op_take(azkv_op *op, void **ctx);

/* Ends a call begun with azkv_op_take. op is the slot again looked up
 * from the session handle after the module lock was re-taken (NULL when
 * the session was closed meanwhile: ctx is then freed). keep 1 puts ctx
 * back (the operation goes on), 0 frees it (the operation ended). */
void azkv_op_return(azkv_op *op, void *ctx, const azkv_op_state_ops *state_ops, int keep);

/* Ends the active operation, if any (C_CloseSession, C_*Init with a NULL
 * mechanism). A busy operation is ended by its call when it returns. */
void azkv_op_end(azkv_op *op);

/* In a forked child, without the lock (the child has no other thread):
 * wipes the active operation's state in place (state_ops->wipe); the
 * state stays reachable, for leak checkers. A busy operation's state is
 * out of reach: a call in a thread the child does not have holds it,
 * perhaps in the middle of changing it. */
void azkv_op_wipe(azkv_op *op);

/* ---- a session's slots, by session handle (session.c) -------------------
 * The first two need the module lock held; the last two take it. */

struct azkv_session;

/* The slot of kind in s. Needs the module lock. */
azkv_op *azkv_session_op(struct azkv_session *s, azkv_op_kind kind);

/* The common start of every C_*Init, with the module lock held: the
 * session, its slot of kind, a NULL mechanism ending the active operation
 * (PKCS#11 3.0: *op is then NULL and CKR_OK returned), and an operation
 * already active. fn names the call for the log. */
CK_RV azkv_op_init_begin(CK_SESSION_HANDLE session, azkv_op_kind kind,
                         const CK_MECHANISM *mechanism, const char *fn, struct azkv_session **s,
                         azkv_op **op);

/* Locks, looks the session up and takes its active operation of kind
 * (azkv_op_take); fn names the call for the log. Unlocked on return. */
CK_RV azkv_session_op_take(CK_SESSION_HANDLE session, azkv_op_kind kind, const char *fn,
                           void **ctx);

/* Locks and gives ctx back (azkv_op_return) to the session, if still open.
 * Returns rv, or CKR_SESSION_CLOSED when rv is CKR_OK but the session was
 * closed meanwhile. Unlocked on return. */
CK_RV azkv_session_op_return(CK_SESSION_HANDLE session, azkv_op_kind kind, void *ctx,
                             const azkv_op_state_ops *state_ops, int keep, CK_RV rv);

#endif
