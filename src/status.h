/* Internal status values of the core. Errors travel as values: every core
 * function returns an azkv_rc and fills an azkv_err with the cause. The
 * PKCS#11 front end turns them into CK_RV in one place (pkcs11/rv.c). */
#ifndef AZKV_STATUS_H
#define AZKV_STATUS_H

#include <stddef.h>

typedef enum azkv_rc {
	AZKV_OK = 0,
	AZKV_ERR_NOMEM,         /* allocation failed */
	AZKV_ERR_INVALID_ARG,   /* a caller passed something unusable */
	AZKV_ERR_CONFIG,        /* configuration missing or malformed */
	AZKV_ERR_NETWORK,       /* DNS, connect, TLS or timeout */
	AZKV_ERR_AUTH,          /* no token could be had, or 401 persisted */
	AZKV_ERR_FORBIDDEN,     /* 403: the identity lacks the permission */
	AZKV_ERR_NOT_FOUND,     /* 404: KeyNotFound and friends */
	AZKV_ERR_BAD_PARAMETER, /* 400: the service refused the request */
	AZKV_ERR_CONFLICT,      /* 409 */
	AZKV_ERR_THROTTLED,     /* 429 after the retries ran out */
	AZKV_ERR_SERVER,        /* 5xx after the retries ran out */
	AZKV_ERR_PROTOCOL,      /* a response we cannot parse */
	AZKV_ERR_CRYPTO,        /* a local OpenSSL operation failed */
	AZKV_ERR_UNSUPPORTED,   /* a key type/algorithm we do not handle */
	AZKV_ERR_UNAVAILABLE,   /* a credential that cannot work here (no az, no IMDS, ...) */
} azkv_rc;

#define AZKV_ERR_MESSAGE_MAX 1024

typedef struct azkv_err {
	azkv_rc rc;
	long http_status;    /* 0 when no HTTP response was involved */
	char code[64];       /* Azure error code, e.g. "KeyNotFound"; "" if none */
	char inner_code[64]; /* its innererror code, e.g. "KeyDisabled"; "" if none */
	char message[AZKV_ERR_MESSAGE_MAX]; /* why, for the log; never a secret */
} azkv_err;

/* Sets err (when not NULL) and returns rc, so callers can write
 * `return azkv_err_set(err, AZKV_ERR_CONFIG, "...", ...);`. */
azkv_rc azkv_err_set(azkv_err *err, azkv_rc rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Clears err to AZKV_OK. */
void azkv_err_clear(azkv_err *err);

/* A short constant name for rc, e.g. "forbidden". */
const char *azkv_rc_name(azkv_rc rc);

#endif
