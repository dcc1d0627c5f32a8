/* azkv-cmk: proof that a key version works, through the PKCS#11 module
 * and its CMK extension (include/azkv/azkv-pkcs11.h): refresh the token
 * after a rotation, find the version, wrap a random key with its public
 * key and unwrap it in the vault. */
#ifndef AZKV_CMK_PROVE_H
#define AZKV_CMK_PROVE_H

#include "cmk.h"

/* CMK_EXIT_OK when the version wrapped and unwrapped; otherwise the
 * exit code, with the reason printed. */
int cmk_prove_version(cmk_ctx *c, const char *version);

#endif
