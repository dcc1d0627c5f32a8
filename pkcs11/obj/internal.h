/* What only the object kinds (pkcs11/obj/) share; the rest of the module
 * sees them through object.h. */
#ifndef AZKV_P11_OBJ_INTERNAL_H
#define AZKV_P11_OBJ_INTERNAL_H

#include "object.h"

/* The storage attributes of an object read from the vault (a key
 * version's, or the certificate shown beside one): a token object, private
 * as given (CKA_PRIVATE), that PKCS#11 can neither modify, copy nor
 * destroy: it changes in the vault. */
CK_RV azkv_obj_set_vault_storage(azkv_attrs *a, CK_BBOOL private);

#endif
