/* Login: the optional user PIN of a vault's token (the vault's "pin" or
 * "pin_file" in the configuration) and what it hides. A token without a
 * PIN shows everything, as if always logged in; with one, its private
 * objects (CKA_PRIVATE true: the vault's private and secret keys, session
 * objects made private) show only while the application is logged in.
 * Below every lookup that asks it (session.c, find.c, mech.c's key
 * lookup, cmk_ext.c): reads the tokens and objects, calls nothing above.
 * All need the module lock. */
#ifndef AZKV_P11_LOGIN_H
#define AZKV_P11_LOGIN_H

#include <p11-kit/pkcs11.h>

#include "object.h"
#include "token.h"

/* 1 when tok has a PIN: CKF_LOGIN_REQUIRED, and C_Login checks it. */
int azkv_login_required(const azkv_token *tok);

/* Whether obj shows to the application now: a public object always; a
 * private one when its token has no PIN or is logged in. The one rule of
 * visibility: handle lookups, searches and the making of session objects
 * all ask it, so that a hidden object is, to the caller, no object. */
int azkv_login_shows(const azkv_object *obj);

/* Whether tok's private objects show now: it has no PIN, or the user is
 * logged in. What azkv_login_shows asks of a private object, and what
 * the making of one (C_GenerateKeyPair) asks before the vault is called. */
int azkv_login_private_shows(const azkv_token *tok);

/* Whether pin (len bytes; NULL only with len 0) is tok's PIN. Compared in
 * constant time over the PIN's length whatever pin holds: the time tells
 * at most whether the lengths differ. */
int azkv_login_pin_matches(const azkv_token *tok, const unsigned char *pin, CK_ULONG len);

/* Logs tok out (C_Logout; closing its last session). With a PIN, as
 * PKCS#11 3.0 5.6 (C_Logout) says and SoftHSMv2 does: its private session
 * objects are destroyed and its private token objects get new handles,
 * so that the handles the application held stay invalid even after it
 * logs in again. */
void azkv_login_end(azkv_token *tok);

#endif
