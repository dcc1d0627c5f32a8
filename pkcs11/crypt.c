/* C_EncryptInit .. C_EncryptFinal and C_DecryptInit .. C_DecryptFinal:
 * entry points of the operation frame (frame.h); the mechanisms are in
 * op_*.c behind azkv_op_ops. Calls run without the module lock (RSA
 * decryption is a vault request): the operation's state is taken out of
 * the session for the call (operation.h). */
#include "frame.h"

/* Encryption and decryption are the same four calls on two slots, so
 * they are written once: C_<Op>Init, C_<Op>, C_<Op>Update, C_<Op>Final. */
#define CIPHER_ENTRY_POINTS(Op, kind)                                                              \
	CK_RV C_##Op##Init(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,                     \
	                   CK_OBJECT_HANDLE key)                                                   \
	{                                                                                          \
		return azkv_frame_init(session, kind, mechanism, key);                             \
	}                                                                                          \
	CK_RV C_##Op(CK_SESSION_HANDLE session, unsigned char *in, CK_ULONG in_len,                \
	             unsigned char *out, CK_ULONG *out_len)                                        \
	{                                                                                          \
		return azkv_frame_call(session, kind, AZKV_CALL_RUN, in, in_len, out, out_len);    \
	}                                                                                          \
	CK_RV C_##Op##Update(CK_SESSION_HANDLE session, unsigned char *in, CK_ULONG in_len,        \
	                     unsigned char *out, CK_ULONG *out_len)                                \
	{                                                                                          \
		return azkv_frame_call(session, kind, AZKV_CALL_UPDATE, in, in_len, out, out_len); \
	}                                                                                          \
	CK_RV C_##Op##Final(CK_SESSION_HANDLE session, unsigned char *out, CK_ULONG *out_len)      \
	{                                                                                          \
		return azkv_frame_call(session, kind, AZKV_CALL_FINAL, NULL, 0, out, out_len);     \
	}

CIPHER_ENTRY_POINTS(Encrypt, AZKV_OPER_ENCRYPT)
CIPHER_ENTRY_POINTS(Decrypt, AZKV_OPER_DECRYPT)
