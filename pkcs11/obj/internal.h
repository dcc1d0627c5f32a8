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

/* A new, empty object of class cls (and key type kt) owned by session on
 * slot (object.c); NULL when out of memory. */
azkv_object *azkv_obj_alloc(CK_SLOT_ID slot, CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls,
                            CK_KEY_TYPE kt);

/* ---- the attribute table of an object kind made through PKCS#11 --------
 * (attr_rules.c) One row per attribute of a session object kind (secret
 * keys, data objects): whether a template may give it when the object is
 * made, its value when not given, and whether C_SetAttributeValue or
 * C_CopyObject may change it afterwards. Every row is on every object of
 * the kind; an attribute without a row does not apply to it. */
typedef enum {
	AZKV_FROM_BOOL,   /* a CK_BBOOL from the template, else dflt */
	AZKV_FROM_BYTES,  /* copied from the template, else empty (strings, dates, DER) */
	AZKV_FROM_MODULE, /* set by the module; a template's value is checked */
} azkv_attr_origin;

typedef enum {
	AZKV_CREATE_GIVEN,         /* the template may give it */
	AZKV_CREATE_READ_ONLY,     /* CKR_ATTRIBUTE_READ_ONLY in a template */
	AZKV_CREATE_NOT_SUPPORTED, /* not taken in a template: CKR_ATTRIBUTE_TYPE_INVALID */
	AZKV_CREATE_APART,         /* a secret key's CKA_VALUE: travels apart from the template */
} azkv_attr_create;

typedef enum {
	AZKV_CHANGE_NEVER,
	AZKV_CHANGE_IF_MODIFIABLE, /* C_SetAttributeValue (of a modifiable object) and C_CopyObject
	                            */
	AZKV_CHANGE_IN_COPY,       /* C_CopyObject only */
} azkv_attr_change;

/* Which way a boolean may change. Protections only move one way: a
 * sensitive key cannot become readable, an unextractable one cannot
 * become extractable. */
typedef enum {
	AZKV_EITHER_WAY,
	AZKV_ONLY_TO_TRUE,
	AZKV_ONLY_TO_FALSE,
	AZKV_ALWAYS_FALSE, /* CKA_TOKEN: only session objects are made here */
} azkv_attr_direction;

typedef struct azkv_attr_rule {
	CK_ATTRIBUTE_TYPE type;
	azkv_attr_origin from;
	CK_BBOOL dflt; /* AZKV_FROM_BOOL only */
	azkv_attr_create create;
	azkv_attr_change change;
	azkv_attr_direction dir;
} azkv_attr_rule;

/* A kind's table: the rows of the attributes every session object has
 * (CKA_CLASS and the common storage attributes of 3.0 4.4, kept in
 * attr_rules.c), then the kind's own rows. */
typedef struct azkv_attr_rules {
	const char *kind;           /* "secret key", "data object": for the log */
	const char *session_only;   /* why CKA_TOKEN=TRUE is refused, for the log */
	const azkv_attr_rule *rows; /* the kind's own */
	size_t n;
} azkv_attr_rules;

extern const azkv_attr_rules azkv_secret_key_rules;
extern const azkv_attr_rules azkv_data_object_rules;

/* Which attributes a template making an object of the kind may give
 * (CKR_ATTRIBUTE_READ_ONLY, CKR_ATTRIBUTE_TYPE_INVALID,
 * CKR_TEMPLATE_INCONSISTENT for a value that travels apart), that its
 * booleans are CK_BBOOLs, and that CKA_TOKEN is not TRUE
 * (CKR_ATTRIBUTE_VALUE_INVALID). Logged. */
CK_RV azkv_rules_check_create(const azkv_attr_rules *r, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* Sets every AZKV_FROM_BOOL and AZKV_FROM_BYTES row on a from the template,
 * or its default; the caller sets the module's own. */
CK_RV azkv_rules_fill(const azkv_attr_rules *r, azkv_attrs *a, const CK_ATTRIBUTE *tmpl,
                      CK_ULONG n);

/* Checks a C_SetAttributeValue (copy 0) or C_CopyObject (copy 1) template
 * against an object of the kind whose attributes are now, before anything
 * changes. Logged. */
CK_RV azkv_rules_check_changes(const azkv_attr_rules *r, const azkv_attrs *now,
                               const CK_ATTRIBUTE *tmpl, CK_ULONG n, int copy);

/* CKA_UNIQUE_ID of a session object: random, as session objects have no
 * name outside the module; a copy gets its own. */
CK_RV azkv_obj_set_unique_id(azkv_attrs *a);

#endif
