/* The one request loop of the Azure clients (Key Vault and Managed HSM in
 * keyvault.c, Resource Manager in arm.c): a token from the credential,
 * the request with it, the service's 401 challenge, retries by the
 * policy of retry.h within the operation's deadline, and Azure's error
 * bodies {"error":{"code","message","innererror":{"code"}}} mapped to
 * azkv_rc. What differs between the services is a hook of
 * azkv_azure_service: which token goes with a request (or none, to ask
 * for the challenge first) and what a 401 challenge means. */
#ifndef AZKV_AZURE_CALL_H
#define AZKV_AZURE_CALL_H

#include "config.h"
#include "credential.h"
#include "http.h"
#include "status.h"

typedef struct azkv_azure_service {
	azkv_http *http;
	azkv_credential *cred;
	const azkv_retry_policy *retry;
	/* For the log: "the vault", "Resource Manager". */
	const char *name;
	/* The token for the next attempt: its scope and tenant (owned
	 * copies; tenant NULL: the credential's). *scope NULL: send this
	 * attempt without a token and without its body, as a probe that
	 * asks the service for its challenge. */
	azkv_rc (*token_for)(void *ctx, char **scope, char **tenant, azkv_err *err);
	/* A 401 to a probe, or the first 401 to a token: reads the
	 * challenge. refused_scope: the scope of the refused token, NULL
	 * after a probe. AZKV_OK: send again; else err says why. */
	azkv_rc (*challenge)(void *ctx, const azkv_http_response *resp, const char *what,
	                     const char *refused_scope, azkv_err *err);
	/* The error for a probe answered with anything but a 401 (NULL for
	 * a service that never probes). */
	azkv_rc (*no_challenge)(void *ctx, const azkv_http_response *resp, const char *what,
	                        azkv_err *err);
	void *ctx;
} azkv_azure_service;

/* Sends one request (body may be NULL) with token, challenge and
 * retries. what begins every message. On AZKV_OK, resp holds a 2xx
 * response (free it with azkv_http_response_free); otherwise err says
 * why. *status (status may be NULL) is the last HTTP status seen, 0 if
 * none.
 *
 * idempotent: the call may be applied twice without harm (reads, a
 * PUT that states the whole resource, and the crypto operations, which
 * change nothing). When it is not (create, rotate, import, delete, an
 * ARM POST, ...), a 500, 502 or 504, or a connection failure once the
 * request may have been sent, is not retried: the service may have
 * applied it. A 429 or 503 (the service did not take the request) and a
 * failure to connect are retried for every call, as is a probe. */
azkv_rc azkv_azure_call(const azkv_azure_service *svc, const char *method, const char *url,
                        const char *what, const char *body, int idempotent,
                        azkv_http_response *resp, long *status, azkv_err *err);

/* The azkv_rc for a failed response (400 BAD_PARAMETER, 401 AUTH, 403
 * FORBIDDEN, 404 NOT_FOUND, 409 CONFLICT, 429 THROTTLED, 5xx SERVER,
 * other 4xx BAD_PARAMETER), with err filled from the body
 * {"error":{"code","message","innererror":{"code"}}}: err->code is the
 * error code, err->inner_code the innererror's, err->http_status the
 * status; what (NULL: "Azure") begins the message. Key Vault, Managed
 * HSM and Resource Manager answer errors in this one shape. */
azkv_rc azkv_azure_error_from_response(long status, const char *body, const char *what,
                                       azkv_err *err);

#endif
