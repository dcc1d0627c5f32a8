/* The checks that the interop programs run against azkv-pkcs11 and
 * SoftHSMv2 (misuse.c, xcheck_data.c) print, one line each, for run.sh to
 * compare module by module:
 *   ok - ID = RESULT
 *   not ok - ID = RESULT (spec: EXPECTED)
 * RESULT is a CKR_* name or a value (one word); " # may differ from
 * SoftHSM: WHY" follows where a module may legitimately answer otherwise.
 * Header-only: each program is one translation unit. */
#ifndef AZKV_INTEROP_CHECK_H
#define AZKV_INTEROP_CHECK_H

#include <p11-kit/pkcs11.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int failures;

static const struct {
	CK_RV rv;
	const char *name;
} rv_names[] = {
#define N(x)                                                                                       \
	{                                                                                          \
		x, #x                                                                              \
	}
        N(CKR_OK),
        N(CKR_HOST_MEMORY),
        N(CKR_SLOT_ID_INVALID),
        N(CKR_GENERAL_ERROR),
        N(CKR_FUNCTION_FAILED),
        N(CKR_ARGUMENTS_BAD),
        N(CKR_NO_EVENT),
        N(CKR_ATTRIBUTE_SENSITIVE),
        N(CKR_ATTRIBUTE_TYPE_INVALID),
        N(CKR_ATTRIBUTE_VALUE_INVALID),
        N(CKR_ACTION_PROHIBITED),
        N(CKR_DATA_LEN_RANGE),
        N(CKR_DEVICE_ERROR),
        N(CKR_FUNCTION_NOT_SUPPORTED),
        N(CKR_KEY_HANDLE_INVALID),
        N(CKR_KEY_TYPE_INCONSISTENT),
        N(CKR_KEY_FUNCTION_NOT_PERMITTED),
        N(CKR_KEY_UNEXTRACTABLE),
        N(CKR_MECHANISM_INVALID),
        N(CKR_MECHANISM_PARAM_INVALID),
        N(CKR_OBJECT_HANDLE_INVALID),
        N(CKR_OPERATION_ACTIVE),
        N(CKR_OPERATION_NOT_INITIALIZED),
        N(CKR_PIN_INCORRECT),
        N(CKR_SESSION_CLOSED),
        N(CKR_SESSION_HANDLE_INVALID),
        N(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
        N(CKR_SESSION_READ_ONLY),
        N(CKR_SESSION_READ_ONLY_EXISTS),
        N(CKR_SIGNATURE_INVALID),
        N(CKR_SIGNATURE_LEN_RANGE),
        N(CKR_TEMPLATE_INCOMPLETE),
        N(CKR_TEMPLATE_INCONSISTENT),
        N(CKR_USER_ALREADY_LOGGED_IN),
        N(CKR_USER_NOT_LOGGED_IN),
        N(CKR_USER_TYPE_INVALID),
        N(CKR_WRAPPING_KEY_HANDLE_INVALID),
        N(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
        N(CKR_BUFFER_TOO_SMALL),
        N(CKR_CRYPTOKI_NOT_INITIALIZED),
        N(CKR_CRYPTOKI_ALREADY_INITIALIZED),
        N(CKR_RANDOM_SEED_NOT_SUPPORTED),
        N(CKR_ATTRIBUTE_READ_ONLY),
#undef N
};

static const char *rv_name(CK_RV rv)
{
	static char buf[32];
	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	snprintf(buf, sizeof(buf), "0x%lx", (unsigned long)rv);
	return buf;
}

/* check(ID, NOTE, GOT, N, ALLOWED...): one line; NOTE (or NULL) says why a
 * module may answer differently from SoftHSMv2 here. */
static void check(const char *id, const char *note, CK_RV got, int n, ...)
{
	va_list ap;
	int ok = 0;
	char want[256] = "";
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		CK_RV w = va_arg(ap, CK_RV);
		if (w == got)
			ok = 1;
		if (i > 0)
			strncat(want, "|", sizeof(want) - strlen(want) - 1);
		strncat(want, rv_name(w), sizeof(want) - strlen(want) - 1);
	}
	va_end(ap);
	if (ok)
		printf("ok - %s = %s", id, rv_name(got));
	else {
		printf("not ok - %s = %s (spec: %s)", id, rv_name(got), want);
		failures++;
	}
	if (note != NULL)
		printf(" # may differ from SoftHSM: %s", note);
	printf("\n");
	fflush(stdout);
}

#define EXPECT(id, call, ...)                                                                      \
	check(id, NULL, (call), (int)(sizeof((CK_RV[]){__VA_ARGS__}) / sizeof(CK_RV)), __VA_ARGS__)
#define EXPECT_NOTE(id, note, call, ...)                                                           \
	check(id, note, (call), (int)(sizeof((CK_RV[]){__VA_ARGS__}) / sizeof(CK_RV)), __VA_ARGS__)

/* A property of an answer (a length, a state) rather than a CK_RV; note
 * as for check. */
static void vcheck_true(const char *id, const char *note, int cond, const char *fmt, va_list ap)
{
	printf("%s - %s = %s", cond ? "ok" : "not ok", id, cond ? "true" : "false");
	if (!cond) {
		failures++;
		printf(" (");
		vprintf(fmt, ap);
		printf(")");
	}
	if (note != NULL)
		printf(" # may differ from SoftHSM: %s", note);
	printf("\n");
	fflush(stdout);
}

static inline void check_true(const char *id, int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcheck_true(id, NULL, cond, fmt, ap);
	va_end(ap);
}

static inline void check_true_note(const char *id, const char *note, int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcheck_true(id, note, cond, fmt, ap);
	va_end(ap);
}

#endif
