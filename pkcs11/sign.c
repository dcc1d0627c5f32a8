/* C_SignInit .. C_SignFinal and C_VerifyInit .. C_VerifyFinal with vault
 * keys: entry points of the operation frame (frame.h). The signature
 * families are in pkcs11/mech/ (op_*.c, their shared part op_sig.c) and
 * the digesting signer of the hashing mechanisms in digest_sign.c. */
#include "frame.h"

CK_RV C_SignInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return azkv_frame_init(session, AZKV_OPER_SIGN, mechanism, key);
}

CK_RV C_Sign(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len, unsigned char *sig,
             CK_ULONG *sig_len)
{
	return azkv_frame_call(session, AZKV_OPER_SIGN, AZKV_CALL_RUN, data, data_len, sig,
	                       sig_len);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	return azkv_frame_init(session, AZKV_OPER_VERIFY, mechanism, key);
}

/* The signature is the frame's input here: passed where a signature
 * comes out of C_Sign, with its length. */
CK_RV C_Verify(CK_SESSION_HANDLE session, unsigned char *data, CK_ULONG data_len,
               unsigned char *sig, CK_ULONG sig_len)
{
	return azkv_frame_call(session, AZKV_OPER_VERIFY, AZKV_CALL_RUN, data, data_len, sig,
	                       &sig_len);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len)
{
	return azkv_frame_call(session, AZKV_OPER_SIGN, AZKV_CALL_UPDATE, part, part_len, NULL,
	                       NULL);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE session, unsigned char *sig, CK_ULONG *sig_len)
{
	return azkv_frame_call(session, AZKV_OPER_SIGN, AZKV_CALL_FINAL, NULL, 0, sig, sig_len);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE session, unsigned char *part, CK_ULONG part_len)
{
	return azkv_frame_call(session, AZKV_OPER_VERIFY, AZKV_CALL_UPDATE, part, part_len, NULL,
	                       NULL);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE session, unsigned char *sig, CK_ULONG sig_len)
{
	return azkv_frame_call(session, AZKV_OPER_VERIFY, AZKV_CALL_FINAL, NULL, 0, sig, &sig_len);
}
