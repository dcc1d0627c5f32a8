/* The vendor interface "Vendor AZKV CMK" (include/azkv/azkv-pkcs11.h):
 * key versions and refresh after a rotation, for CMK tooling. */
#ifndef AZKV_P11_CMK_EXT_H
#define AZKV_P11_CMK_EXT_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "azkv/azkv-pkcs11.h"
#include "object.h"

/* The interface's function list (cmk_ext.c), listed by entry.c. */
extern AZKV_CMK_FUNCTION_LIST azkv_cmk_function_list;

/* The versions of the key name (name_len bytes) among objs: the vault key
 * objects of slot, grouped by version (a public and a private object
 * each), the current version first, then newest created first. *out is
 * owned by the caller (free()); NULL when there are none. No lock taken:
 * the caller holds the module lock while objs are the table's. */
CK_RV azkv_cmk_versions(azkv_object *const *objs, size_t n, CK_SLOT_ID slot, const char *name,
                        size_t name_len, AZKV_KEY_VERSION_INFO **out, size_t *n_out);

#endif
