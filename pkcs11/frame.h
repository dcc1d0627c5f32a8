/* The one frame of every cipher and signature operation: C_EncryptInit ..
 * C_EncryptFinal, C_DecryptInit .., C_SignInit .., C_VerifyInit ..
 * (crypt.c and sign.c are only their entry points). Init looks up the
 * mechanism's row and family (mech.h), checks the key once
 * (azkv_key_for_op) and installs the family's state in the session's slot
 * of kind; every later call takes the state out of the slot for its
 * duration (operation.h), runs the family without the module lock (a
 * family may make a vault request) and gives it back or ends it. */
#ifndef AZKV_P11_FRAME_H
#define AZKV_P11_FRAME_H

#include <p11-kit/pkcs11.h>

#include "operation.h"

typedef enum azkv_op_call {
	AZKV_CALL_RUN,    /* C_Encrypt, C_Decrypt, C_Sign, C_Verify */
	AZKV_CALL_UPDATE, /* C_*Update */
	AZKV_CALL_FINAL,  /* C_*Final */
} azkv_op_call;

/* C_*Init of kind. */
CK_RV azkv_frame_init(CK_SESSION_HANDLE session, azkv_op_kind kind, const CK_MECHANISM *mechanism,
                      CK_OBJECT_HANDLE key);

/* One call of kind. in/in_len: the data (RUN, UPDATE). out/out_len: what
 * comes out (encrypt, decrypt, sign; NULL out asks the length), or the
 * signature to verify (*out_len its length); NULL, NULL for sign and
 * verify updates. */
CK_RV azkv_frame_call(CK_SESSION_HANDLE session, azkv_op_kind kind, azkv_op_call call,
                      const unsigned char *in, CK_ULONG in_len, unsigned char *out,
                      CK_ULONG *out_len);

#endif
