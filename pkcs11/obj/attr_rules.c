/* The attribute tables of the session object kinds (internal.h): the
 * checks of a template that makes an object, of one that changes or
 * copies it, and the filling of a new object from its template, written
 * once for every kind, each kind being its table. */
#include <openssl/rand.h>
#include <stdio.h>

#include "internal.h"
#include "log.h"
#include "pkcs11_v3.h"

/* The rows every session object kind shares: CKA_CLASS (each kind checks
 * its value) and the common storage attributes (3.0 4.4). Session objects
 * are public unless the template says otherwise, as the token has no PIN
 * by default. */
/* clang-format off */
static const azkv_attr_rule storage_rows[] = {
        {CKA_CLASS, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
        {CKA_TOKEN, AZKV_FROM_BOOL, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IN_COPY, AZKV_ALWAYS_FALSE},
        {CKA_PRIVATE, AZKV_FROM_BOOL, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IN_COPY, AZKV_EITHER_WAY},
        {CKA_MODIFIABLE, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IN_COPY, AZKV_EITHER_WAY},
        {CKA_COPYABLE, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_ONLY_TO_FALSE},
        {CKA_DESTROYABLE, AZKV_FROM_BOOL, CK_TRUE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IN_COPY, AZKV_EITHER_WAY},
        {CKA_LABEL, AZKV_FROM_BYTES, CK_FALSE, AZKV_CREATE_GIVEN, AZKV_CHANGE_IF_MODIFIABLE, AZKV_EITHER_WAY},
        {CKA_UNIQUE_ID, AZKV_FROM_MODULE, CK_FALSE, AZKV_CREATE_READ_ONLY, AZKV_CHANGE_NEVER, AZKV_EITHER_WAY},
};
/* clang-format on */

#define N_STORAGE_ROWS (sizeof(storage_rows) / sizeof(storage_rows[0]))

/* The kind's rows one after the other, the shared ones first: row i of
 * n_rows(r). */
static size_t n_rows(const azkv_attr_rules *r)
{
	return N_STORAGE_ROWS + r->n;
}

static const azkv_attr_rule *row_at(const azkv_attr_rules *r, size_t i)
{
	return i < N_STORAGE_ROWS ? &storage_rows[i] : &r->rows[i - N_STORAGE_ROWS];
}

/* type's row; NULL when type does not apply to the kind. */
static const azkv_attr_rule *row_of(const azkv_attr_rules *r, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < n_rows(r); i++)
		if (row_at(r, i)->type == type)
			return row_at(r, i);
	return NULL;
}

/* The name of type for the log: "CKA_LABEL", or its number. */
static const char *name_of(CK_ATTRIBUTE_TYPE type, char buf[24])
{
	const char *name = azkv_attr_name(type);
	if (name != NULL)
		return name;
	snprintf(buf, 24, "0x%lx", (unsigned long)type);
	return buf;
}

/* A CKA_TOKEN=TRUE: only session objects are made (fn names the call). */
static CK_RV check_always_false(const azkv_attr_rules *r, const azkv_attr_rule *row, CK_BBOOL v,
                                const char *fn)
{
	if (row->dir != AZKV_ALWAYS_FALSE || !v)
		return CKR_OK;
	azkv_error("%s: %s=TRUE: %s", fn, azkv_attr_name(row->type), r->session_only);
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

CK_RV azkv_rules_check_create(const azkv_attr_rules *r, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	char buf[24];
	CK_RV rv;
	int present;
	for (CK_ULONG i = 0; i < n; i++) {
		const azkv_attr_rule *row = row_of(r, tmpl[i].type);
		azkv_attr_create create = row != NULL ? row->create : AZKV_CREATE_NOT_SUPPORTED;
		const char *name = name_of(tmpl[i].type, buf);
		if (create == AZKV_CREATE_READ_ONLY) {
			azkv_error("%s template: %s is set by the module (read-only)", r->kind,
			           name);
			return CKR_ATTRIBUTE_READ_ONLY;
		}
		if (create == AZKV_CREATE_APART) {
			azkv_error("%s template: %s cannot be given here", r->kind, name);
			return CKR_TEMPLATE_INCONSISTENT;
		}
		if (create == AZKV_CREATE_NOT_SUPPORTED) {
			azkv_error("%s template: %s does not apply to a %s", r->kind, name,
			           r->kind);
			return CKR_ATTRIBUTE_TYPE_INVALID;
		}
	}
	/* Every boolean must be a CK_BBOOL, and CKA_TOKEN false. */
	char where[48];
	snprintf(where, sizeof(where), "%s template", r->kind);
	for (size_t i = 0; i < n_rows(r); i++) {
		const azkv_attr_rule *row = row_at(r, i);
		CK_BBOOL v = CK_FALSE;
		if (row->from == AZKV_FROM_BOOL &&
		    ((rv = azkv_tmpl_bool(tmpl, n, row->type, &v, &present)) != CKR_OK ||
		     (rv = check_always_false(r, row, v, where)) != CKR_OK))
			return rv;
	}
	return CKR_OK;
}

CK_RV azkv_rules_fill(const azkv_attr_rules *r, azkv_attrs *a, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_RV rv;
	int present;
	for (size_t i = 0; i < n_rows(r); i++) {
		const azkv_attr_rule *row = row_at(r, i);
		CK_BBOOL v = row->dflt;
		const CK_ATTRIBUTE *t = azkv_tmpl_find(tmpl, n, row->type);
		if (row->from == AZKV_FROM_BOOL &&
		    ((rv = azkv_tmpl_bool(tmpl, n, row->type, &v, &present)) != CKR_OK ||
		     (rv = azkv_attrs_set_bool(a, row->type, v)) != CKR_OK))
			return rv;
		if (row->from == AZKV_FROM_BYTES &&
		    (rv = azkv_attrs_set(a, row->type, t ? t->pValue : NULL,
		                         t ? t->ulValueLen : 0)) != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

CK_RV azkv_rules_check_changes(const azkv_attr_rules *r, const azkv_attrs *now,
                               const CK_ATTRIBUTE *tmpl, CK_ULONG n, int copy)
{
	const char *fn = copy ? "C_CopyObject" : "C_SetAttributeValue";
	char buf[24];
	for (CK_ULONG i = 0; i < n; i++) {
		const CK_ATTRIBUTE *t = &tmpl[i];
		const azkv_attr_rule *row = row_of(r, t->type);
		azkv_attr_change rule = row != NULL ? row->change : AZKV_CHANGE_NEVER;
		if (row == NULL) {
			azkv_error("%s: %s does not apply to a %s", fn, name_of(t->type, buf),
			           r->kind);
			return CKR_ATTRIBUTE_TYPE_INVALID;
		}
		if (rule == AZKV_CHANGE_NEVER || (rule == AZKV_CHANGE_IN_COPY && !copy)) {
			azkv_error("%s: %s of a %s cannot be changed%s", fn, name_of(t->type, buf),
			           r->kind, copy ? " when copying" : "");
			return CKR_ATTRIBUTE_READ_ONLY;
		}
		/* The rules below are for CK_BBOOLs, whose size
		 * azkv_tmpl_check has checked. */
		if (row->from != AZKV_FROM_BOOL)
			continue;
		CK_BBOOL v = *(const CK_BBOOL *)t->pValue ? CK_TRUE : CK_FALSE;
		CK_BBOOL was = azkv_attrs_bool(now, t->type, CK_FALSE);
		if ((row->dir == AZKV_ONLY_TO_TRUE && was && !v) ||
		    (row->dir == AZKV_ONLY_TO_FALSE && !was && v)) {
			azkv_error("%s: %s can only be changed towards more protection", fn,
			           name_of(t->type, buf));
			return CKR_ATTRIBUTE_READ_ONLY;
		}
		CK_RV rv = check_always_false(r, row, v, fn);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

CK_RV azkv_obj_set_unique_id(azkv_attrs *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	char id[sizeof(rnd) * 2 + 1];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return CKR_FUNCTION_FAILED;
	/* Not snprintf per byte: every C_UnwrapKey makes a key, and 16
	 * formatted prints were a tenth of its work outside libcurl. */
	for (size_t i = 0; i < sizeof(rnd); i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	id[sizeof(id) - 1] = '\0';
	return azkv_attrs_set_string(a, CKA_UNIQUE_ID, id);
}
