/* The request loop of the Azure clients and the mapping of Azure's error
 * bodies (see azure_call.h). */
#include "azure_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bytes.h"
#include "log.h"
#include "retry.h"

/* ---------------------------------------------------------------- errors */

static azkv_rc rc_for_status(long status)
{
	switch (status) {
	case 400:
		return AZKV_ERR_BAD_PARAMETER;
	case 401:
		return AZKV_ERR_AUTH;
	case 403:
		return AZKV_ERR_FORBIDDEN;
	case 404:
		return AZKV_ERR_NOT_FOUND;
	case 409:
		return AZKV_ERR_CONFLICT;
	case 429:
		return AZKV_ERR_THROTTLED;
	default:
		if (status >= 500)
			return AZKV_ERR_SERVER;
		if (status >= 400)
			return AZKV_ERR_BAD_PARAMETER;
		return AZKV_ERR_PROTOCOL;
	}
}

azkv_rc azkv_azure_error_from_response(long status, const char *body, const char *what,
                                       azkv_err *err)
{
	cJSON *root = body ? cJSON_Parse(body) : NULL;
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(error, "innererror");
	const cJSON *inner_code = cJSON_GetObjectItemCaseSensitive(inner, "code");
	azkv_rc rc = rc_for_status(status);
	int has_code = cJSON_IsString(code) && code->valuestring[0];
	int has_inner = cJSON_IsString(inner_code) && inner_code->valuestring[0];

	if (!what)
		what = "Azure";
	if (has_code)
		azkv_err_set(err, rc, "%s: HTTP %ld %s%s%s%s: %s", what, status, code->valuestring,
		             has_inner ? " (" : "", has_inner ? inner_code->valuestring : "",
		             has_inner ? ")" : "",
		             cJSON_IsString(message) ? message->valuestring : "(no message)");
	else
		azkv_err_set(err, rc, "%s: HTTP %ld (no error details in the response)", what,
		             status);
	if (err) {
		err->http_status = status;
		if (has_code)
			snprintf(err->code, sizeof(err->code), "%s", code->valuestring);
		if (has_code && has_inner)
			snprintf(err->inner_code, sizeof(err->inner_code), "%s",
			         inner_code->valuestring);
	}
	cJSON_Delete(root);
	return rc;
}

/* The error for a response that ends the call: the service's own for a
 * probe (the host has not shown it is the service), else the mapped
 * error body with the request id. */
static azkv_rc failed(const azkv_azure_service *svc, int probe, const azkv_http_response *resp,
                      const char *what, azkv_err *err)
{
	azkv_rc rc;

	if (probe)
		return svc->no_challenge(svc->ctx, resp, what, err);
	rc = azkv_azure_error_from_response(resp->status, resp->body, what, err);
	azkv_http_err_add_request_id(err, resp);
	return rc;
}

/* ---------------------------------------------------------------- the loop */

azkv_rc azkv_azure_call(const azkv_azure_service *svc, const char *method, const char *url,
                        const char *what, const char *body, int idempotent,
                        azkv_http_response *resp, long *status, azkv_err *err)
{
	char *token = NULL, *scope = NULL, *tenant = NULL;
	long deadline = svc->retry->deadline_ms > 0 ? azkv_now_ms() + svc->retry->deadline_ms : 0;
	int attempt = 0, refused = 0, probe = 0, safe;
	azkv_rc rc;

	memset(resp, 0, sizeof(*resp));
	if (status)
		*status = 0;
	for (;;) {
		rc = svc->token_for(svc->ctx, &scope, &tenant, err);
		if (rc != AZKV_OK)
			goto out;
		probe = scope == NULL;
		if (!probe) {
			rc = azkv_credential_get_token(svc->cred, scope, tenant, &token, err);
			if (rc == AZKV_ERR_THROTTLED || rc == AZKV_ERR_SERVER)
				goto retry;
			if (rc != AZKV_OK)
				goto out;
		}
		/* A probe goes without the body, which may be key material. */
		rc = azkv_http_request_json(svc->http, method, url, token, probe ? NULL : body,
		                            azkv_retry_time_left(deadline), !idempotent && !probe,
		                            attempt + 1, resp, err);
		azkv_secret_str_free(token);
		token = NULL;
		if (rc != AZKV_OK) {
			azkv_err_set(err, rc, "%s: %s", what,
			             err ? err->message : "request failed");
			if (rc == AZKV_ERR_NETWORK && (probe || idempotent || !resp->maybe_sent))
				goto retry;
			if (rc == AZKV_ERR_NETWORK)
				azkv_warn("%s: not sent again: it may have reached %s before the "
				          "connection failed",
				          what, svc->name);
			goto out;
		}
		if (status)
			*status = resp->status;
		/* The challenge is read after a probe, and once after a refused
		 * token (expired, revoked): a second refusal is an error. */
		if (resp->status == 401 && (probe || !refused)) {
			refused = !probe;
			rc = svc->challenge(svc->ctx, resp, what, probe ? NULL : scope, err);
			if (rc != AZKV_OK)
				goto out;
			azkv_http_response_free(resp);
			free(scope);
			free(tenant);
			scope = tenant = NULL;
			continue;
		}
		safe = idempotent || probe || resp->status == 429 || resp->status == 503;
		if (azkv_retry_status(resp->status) && safe)
			goto retry;
		if (!probe && resp->status >= 200 && resp->status < 300)
			goto out;
		rc = failed(svc, probe, resp, what, err);
		goto out;
	retry:
		if (!azkv_retry_wait(svc->retry, attempt, deadline, what, resp, err)) {
			if (resp->status)
				rc = failed(svc, probe, resp, what, err);
			goto out;
		}
		free(scope);
		free(tenant);
		scope = tenant = NULL;
		attempt++;
	}
out:
	if (rc != AZKV_OK)
		azkv_http_response_free(resp);
	azkv_secret_str_free(token);
	free(scope);
	free(tenant);
	return rc;
}
