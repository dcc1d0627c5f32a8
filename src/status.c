/* Internal status values and error records. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

azkv_rc azkv_err_set(azkv_err *err, azkv_rc rc, const char *fmt, ...)
{
	va_list ap;
	char buf[AZKV_ERR_MESSAGE_MAX];

	if (!err)
		return rc;
	/* Format first: an argument may point into err->message. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	err->rc = rc;
	err->http_status = 0;
	err->code[0] = '\0';
	err->inner_code[0] = '\0';
	memcpy(err->message, buf, sizeof(buf));
	return rc;
}

void azkv_err_clear(azkv_err *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->rc = AZKV_OK;
}

const char *azkv_rc_name(azkv_rc rc)
{
	switch (rc) {
	case AZKV_OK:
		return "ok";
	case AZKV_ERR_NOMEM:
		return "out of memory";
	case AZKV_ERR_INVALID_ARG:
		return "invalid argument";
	case AZKV_ERR_CONFIG:
		return "configuration error";
	case AZKV_ERR_NETWORK:
		return "network error";
	case AZKV_ERR_AUTH:
		return "authentication failed";
	case AZKV_ERR_FORBIDDEN:
		return "forbidden";
	case AZKV_ERR_NOT_FOUND:
		return "not found";
	case AZKV_ERR_BAD_PARAMETER:
		return "bad parameter";
	case AZKV_ERR_CONFLICT:
		return "conflict";
	case AZKV_ERR_THROTTLED:
		return "throttled";
	case AZKV_ERR_SERVER:
		return "server error";
	case AZKV_ERR_PROTOCOL:
		return "protocol error";
	case AZKV_ERR_CRYPTO:
		return "crypto error";
	case AZKV_ERR_UNSUPPORTED:
		return "unsupported";
	case AZKV_ERR_UNAVAILABLE:
		return "credential unavailable";
	}
	return "unknown error";
}
