/* Azure Resource Manager: requests through the loop of azure_call.c (the
 * token for the cloud's ARM scope, the 401 challenge, retries by http.h's
 * policy, ARM errors), and long-running operations. */
#include "arm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azure_call.h"
#include "bytes.h"
#include "log.h"
#include "retry.h"

#define ARM_POLL_DEFAULT_MS 1000L
#define ARM_POLL_CAP_MS     60000L
#define ARM_WAIT_DEFAULT_MS 600000L
#define ARM_WHAT_MAX        320

struct azkv_arm_client {
	char *endpoint;    /* no trailing '/' */
	const char *scope; /* the cloud's ARM token scope */
	azkv_retry_policy retry;
	azkv_credential *cred;
	azkv_azure_service service;    /* the request loop's hooks (arm_call) */
	azkv_arm_progress_fn progress; /* NULL: silent */
	void *progress_ctx;
};

void azkv_arm_client_set_progress(azkv_arm_client *arm, azkv_arm_progress_fn fn, void *ctx)
{
	arm->progress = fn;
	arm->progress_ctx = ctx;
}

/* ---------------------------------------------------------------- client */

/* ARM needs the token on the first request: the endpoint is configured,
 * not read from a response, and arm_call sends nothing off it. */
static azkv_rc arm_token_for(void *ctx, char **scope, char **tenant, azkv_err *err)
{
	const azkv_arm_client *arm = ctx;

	*tenant = NULL;
	*scope = strdup(arm->scope);
	return *scope ? AZKV_OK : azkv_err_set(err, AZKV_ERR_NOMEM, "arm: out of memory");
}

/* A 401 with a challenge: the token was refused; drop it and get a fresh
 * one, once. Without one it is the answer. */
static azkv_rc arm_challenge(void *ctx, const azkv_http_response *resp, const char *what,
                             const char *refused_scope, azkv_err *err)
{
	const azkv_arm_client *arm = ctx;
	azkv_rc rc;

	if (!resp->www_authenticate) {
		rc = azkv_arm_error_from_response(resp->status, resp->body, what, err);
		azkv_http_err_add_request_id(err, resp);
		return rc;
	}
	azkv_debug("%s: 401 with a challenge; retrying with a new token", what);
	azkv_credential_invalidate(arm->cred, refused_scope);
	return AZKV_OK;
}

azkv_rc azkv_arm_client_new(const azkv_cloud *cloud, const char *endpoint, int max_retries,
                            azkv_http *http, azkv_credential *cred, azkv_arm_client **out,
                            azkv_err *err)
{
	azkv_arm_client *arm;
	size_t len;

	*out = NULL;
	if (!http || !cred)
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG, "arm: missing http or credential");
	if (!cloud)
		cloud = azkv_cloud_default();
	if (!endpoint || !*endpoint)
		endpoint = cloud->arm_endpoint;
	if (!azkv_http_url_allowed(endpoint))
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG,
		                    "arm: %s must be https:// (http:// only to loopback)",
		                    endpoint);
	arm = calloc(1, sizeof(*arm));
	if (!arm || !(arm->endpoint = strdup(endpoint))) {
		free(arm);
		return azkv_err_set(err, AZKV_ERR_NOMEM, "arm: out of memory");
	}
	len = strlen(arm->endpoint);
	while (len > 0 && arm->endpoint[len - 1] == '/')
		arm->endpoint[--len] = '\0';
	arm->retry = *azkv_http_retry_policy(http);
	if (max_retries >= 0)
		arm->retry.max_retries = max_retries;
	arm->scope = cloud->arm_scope;
	arm->cred = cred;
	arm->service = (azkv_azure_service){
	        .http = http,
	        .cred = cred,
	        .retry = &arm->retry,
	        .name = "Resource Manager",
	        .token_for = arm_token_for,
	        .challenge = arm_challenge,
	        .ctx = arm,
	};
	*out = arm;
	return AZKV_OK;
}

void azkv_arm_client_free(azkv_arm_client *arm)
{
	if (!arm)
		return;
	free(arm->endpoint);
	free(arm);
}

/* ---------------------------------------------------------------- parsing */

azkv_rc azkv_arm_error_from_response(long status, const char *body, const char *what, azkv_err *err)
{
	/* Same body shape and status mapping as Key Vault's. */
	return azkv_azure_error_from_response(status, body, what ? what : "ARM", err);
}

azkv_rc azkv_arm_op_status_parse(const char *json, azkv_arm_op_state *state, azkv_err *err)
{
	cJSON *root = json ? cJSON_Parse(json) : NULL;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
	azkv_rc rc = AZKV_OK, op_rc;

	*state = AZKV_ARM_OP_RUNNING;
	if (!cJSON_IsString(st)) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "arm: operation status without a \"status\" string");
		goto out;
	}
	if (strcasecmp(st->valuestring, "Succeeded") == 0) {
		*state = AZKV_ARM_OP_SUCCEEDED;
		goto out;
	}
	if (strcasecmp(st->valuestring, "Failed") == 0)
		*state = AZKV_ARM_OP_FAILED;
	else if (strcasecmp(st->valuestring, "Canceled") == 0 ||
	         strcasecmp(st->valuestring, "Cancelled") == 0)
		*state = AZKV_ARM_OP_CANCELED;
	else
		goto out;
	op_rc = *state == AZKV_ARM_OP_FAILED ? AZKV_ERR_SERVER : AZKV_ERR_CONFLICT;
	azkv_err_set(err, op_rc, "arm: long-running operation %s: %s: %s", st->valuestring,
	             cJSON_IsString(code) ? code->valuestring : "(no code)",
	             cJSON_IsString(message) ? message->valuestring : "(no message)");
	if (err && cJSON_IsString(code))
		snprintf(err->code, sizeof(err->code), "%s", code->valuestring);
out:
	cJSON_Delete(root);
	return rc;
}

/* ---------------------------------------------------------------- requests */

/* A URL the token may go to: on the client's endpoint (same scheme, host
 * and port, compared parsed, so that "https://management.azure.com.evil"
 * or user info cannot pass), and nowhere else, whatever a response's
 * nextLink, Location or Azure-AsyncOperation names. */
static int on_endpoint(const azkv_arm_client *arm, const char *url)
{
	return azkv_http_same_origin(arm->endpoint, url);
}

/* The path part of url for messages (no query: it is not secret, but long). */
static void describe(char *what, size_t n, const char *method, const char *path)
{
	size_t len = strcspn(path, "?");

	snprintf(what, n, "ARM %s %.*s", method, (int)(len > 280 ? 280 : len), path);
}

/* Sends one ARM request with token, challenge and retries
 * (azkv_azure_call). On AZKV_OK, resp holds a 2xx response; otherwise
 * err says why and *status is the last status seen. The token goes only
 * to the client's endpoint. Retries as Key Vault's, with the same
 * policy: GET, PUT and PATCH of ARM resources are idempotent (a PUT
 * states the whole resource); POST and DELETE are not, so a 500, 502 or
 * 504, or a connection failure after the request may have been sent, is
 * not retried for them. */
static azkv_rc arm_call(azkv_arm_client *arm, const char *method, const char *url, const char *what,
                        const char *body, azkv_http_response *resp, long *status, azkv_err *err)
{
	int idempotent = strcmp(method, "GET") == 0 || strcmp(method, "PUT") == 0 ||
	                 strcmp(method, "PATCH") == 0;

	memset(resp, 0, sizeof(*resp));
	*status = 0;
	if (!on_endpoint(arm, url))
		return azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                    "%s: the URL is not on %s; no request (and no token) sent",
		                    what, arm->endpoint);
	return azkv_azure_call(&arm->service, method, url, what, body, idempotent, resp, status,
	                       err);
}

/* endpoint + resource_id + api-version. Owned; NULL on ENOMEM. */
static char *arm_url(const azkv_arm_client *arm, const char *resource_id, const char *api_version)
{
	size_t len = strlen(arm->endpoint) + strlen(resource_id) + strlen("?api-version=") +
	             strlen(api_version) + 1;
	char *url = malloc(len);

	if (url)
		snprintf(url, len, "%s%s%capi-version=%s", arm->endpoint, resource_id,
		         strchr(resource_id, '?') ? '&' : '?', api_version);
	return url;
}

/* The body as JSON (owned, NULL for none), or AZKV_ERR_PROTOCOL. */
static azkv_rc parse_body(const azkv_http_response *resp, const char *what, cJSON **out,
                          azkv_err *err)
{
	*out = NULL;
	if (resp->status == 204 || !resp->body || resp->body_len == 0)
		return AZKV_OK;
	*out = cJSON_Parse(resp->body);
	if (!*out)
		return azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                    "%s: HTTP %ld with a body that is not JSON", what,
		                    resp->status);
	return AZKV_OK;
}

static int valid_args(const char *method, const char *resource_id, const char *api_version)
{
	return method && *method && resource_id && resource_id[0] == '/' && api_version &&
	       *api_version && !strpbrk(resource_id, " \t\r\n") &&
	       !strpbrk(api_version, " \t\r\n&#");
}

/* Sends the request; the response is kept in resp (2xx) for the caller. */
static azkv_rc arm_send(azkv_arm_client *arm, const char *method, const char *resource_id,
                        const char *api_version, const cJSON *body, azkv_http_response *resp,
                        long *status, azkv_err *err)
{
	char what[ARM_WHAT_MAX];
	char *url = NULL, *text = NULL;
	azkv_rc rc;

	memset(resp, 0, sizeof(*resp));
	*status = 0;
	if (!arm || !valid_args(method, resource_id, api_version))
		return azkv_err_set(err, AZKV_ERR_INVALID_ARG,
		                    "arm: a method, a resource id beginning with '/' and an "
		                    "api-version are needed");
	describe(what, sizeof(what), method, resource_id);
	url = arm_url(arm, resource_id, api_version);
	if (body)
		text = cJSON_PrintUnformatted(body);
	if (!url || (body && !text)) {
		rc = azkv_err_set(err, AZKV_ERR_NOMEM, "arm: out of memory");
		goto out;
	}
	rc = arm_call(arm, method, url, what, text, resp, status, err);
out:
	free(url);
	free(text);
	return rc;
}

azkv_rc azkv_arm_request(azkv_arm_client *arm, const char *method, const char *resource_id,
                         const char *api_version, const cJSON *body, cJSON **response, long *status,
                         azkv_err *err)
{
	azkv_http_response resp = {0};
	char what[ARM_WHAT_MAX];
	azkv_rc rc;

	*response = NULL;
	rc = arm_send(arm, method, resource_id, api_version, body, &resp, status, err);
	if (rc != AZKV_OK)
		return rc;
	describe(what, sizeof(what), method, resource_id);
	rc = parse_body(&resp, what, response, err);
	azkv_http_response_free(&resp);
	return rc;
}

/* Polls url until it answers other than 202 (Location) or its status is
 * terminal (Azure-AsyncOperation). For Location, *final gets the last
 * response. */
static azkv_rc poll(azkv_arm_client *arm, const char *url, int async_op, const char *retry_after,
                    long deadline, azkv_http_response *final, long *status, azkv_err *err)
{
	azkv_http_response resp = {0};
	azkv_arm_op_state state;
	char what[ARM_WHAT_MAX];
	/* For messages; url is on the endpoint (on_endpoint), maybe spelt
	 * otherwise (an explicit port). */
	const char *path = strlen(url) > strlen(arm->endpoint) ? url + strlen(arm->endpoint) : url;
	long delay = azkv_retry_after_ms(retry_after, ARM_POLL_DEFAULT_MS, ARM_POLL_CAP_MS);
	azkv_rc rc;

	describe(what, sizeof(what), "GET", path);
	for (;;) {
		if (azkv_now_ms() + delay > deadline) {
			rc = azkv_err_set(err, AZKV_ERR_NETWORK,
			                  "%s: the long-running operation did not finish in time",
			                  what);
			goto out;
		}
		azkv_sleep_ms(delay);
		rc = arm_call(arm, "GET", url, what, NULL, &resp, status, err);
		if (rc != AZKV_OK)
			goto out;
		if (async_op) {
			rc = azkv_arm_op_status_parse(resp.body, &state, err);
			if (rc != AZKV_OK)
				goto out;
			if (arm->progress)
				arm->progress(arm->progress_ctx,
				              state == AZKV_ARM_OP_SUCCEEDED ? "Succeeded"
				              : state == AZKV_ARM_OP_RUNNING ? "InProgress"
				                                             : "Failed");
			if (state == AZKV_ARM_OP_SUCCEEDED)
				goto out;
			if (state != AZKV_ARM_OP_RUNNING) {
				rc = err ? err->rc : AZKV_ERR_SERVER;
				if (err)
					err->http_status = resp.status;
				goto out;
			}
		} else if (resp.status != 202) {
			if (arm->progress)
				arm->progress(arm->progress_ctx, "Succeeded");
			*final = resp;
			memset(&resp, 0, sizeof(resp));
			goto out;
		}
		delay = azkv_retry_after_ms(resp.retry_after, ARM_POLL_DEFAULT_MS, ARM_POLL_CAP_MS);
		azkv_debug("%s: operation still running; next poll in %ld ms", what, delay);
		if (arm->progress && !async_op)
			arm->progress(arm->progress_ctx, "InProgress");
		azkv_http_response_free(&resp);
	}
out:
	azkv_http_response_free(&resp);
	return rc;
}

azkv_rc azkv_arm_request_wait(azkv_arm_client *arm, const char *method, const char *resource_id,
                              const char *api_version, const cJSON *body, long timeout_ms,
                              cJSON **response, long *status, azkv_err *err)
{
	azkv_http_response resp = {0}, final = {0};
	char what[ARM_WHAT_MAX];
	const char *op_url, *loc;
	long deadline = azkv_now_ms() + (timeout_ms > 0 ? timeout_ms : ARM_WAIT_DEFAULT_MS);
	int is_put;
	azkv_rc rc;

	*response = NULL;
	rc = arm_send(arm, method, resource_id, api_version, body, &resp, status, err);
	if (rc != AZKV_OK)
		return rc;
	describe(what, sizeof(what), method, resource_id);
	op_url = resp.azure_async_operation;
	loc = resp.location;
	if ((resp.status != 201 && resp.status != 202) || (!op_url && !loc)) {
		rc = parse_body(&resp, what, response, err);
		goto out;
	}
	if ((op_url && !on_endpoint(arm, op_url)) || (loc && !on_endpoint(arm, loc))) {
		rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
		                  "%s: the operation to poll is not on %s; refused", what,
		                  arm->endpoint);
		goto out;
	}
	is_put = strcasecmp(method, "PUT") == 0 || strcasecmp(method, "PATCH") == 0;
	if (op_url) {
		rc = poll(arm, op_url, 1, resp.retry_after, deadline, &final, status, err);
		if (rc != AZKV_OK)
			goto out;
		if (is_put) {
			rc = azkv_arm_request(arm, "GET", resource_id, api_version, NULL, response,
			                      status, err);
			goto out;
		}
		if (!loc)
			goto out;
		rc = arm_call(arm, "GET", loc, what, NULL, &final, status, err);
	} else {
		rc = poll(arm, loc, 0, resp.retry_after, deadline, &final, status, err);
	}
	if (rc == AZKV_OK)
		rc = parse_body(&final, what, response, err);
out:
	azkv_http_response_free(&resp);
	azkv_http_response_free(&final);
	return rc;
}

azkv_rc azkv_arm_list(azkv_arm_client *arm, const char *resource_id, const char *api_version,
                      cJSON **items, azkv_err *err)
{
	azkv_http_response resp = {0};
	char what[ARM_WHAT_MAX];
	char *next = NULL;
	cJSON *page = NULL, *value, *item;
	long status = 0;
	int pages = 0;
	azkv_rc rc;

	*items = cJSON_CreateArray();
	if (!*items)
		return azkv_err_set(err, AZKV_ERR_NOMEM, "arm: out of memory");
	describe(what, sizeof(what), "GET", resource_id);
	rc = arm_send(arm, "GET", resource_id, api_version, NULL, &resp, &status, err);
	for (;;) {
		if (rc == AZKV_OK)
			rc = parse_body(&resp, what, &page, err);
		azkv_http_response_free(&resp);
		if (rc != AZKV_OK)
			break;
		value = cJSON_DetachItemFromObjectCaseSensitive(page, "value");
		if (!cJSON_IsArray(value)) {
			cJSON_Delete(value);
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL,
			                  "%s: the answer has no \"value\" list", what);
			break;
		}
		while ((item = cJSON_DetachItemFromArray(value, 0)) != NULL)
			cJSON_AddItemToArray(*items, item);
		cJSON_Delete(value);
		free(next);
		next = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(page, "nextLink"))
		               ? strdup(cJSON_GetObjectItemCaseSensitive(page, "nextLink")
		                                ->valuestring)
		               : NULL;
		cJSON_Delete(page);
		page = NULL;
		if (!next)
			break;
		/* The token goes with the request: only to our endpoint. A
		 * service that keeps answering nextLinks is cut off. */
		if (!on_endpoint(arm, next) || ++pages > 1000) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "%s: nextLink %s refused", what,
			                  on_endpoint(arm, next) ? "after 1000 pages"
			                                         : "off the endpoint");
			break;
		}
		rc = arm_call(arm, "GET", next, what, NULL, &resp, &status, err);
	}
	free(next);
	cJSON_Delete(page);
	if (rc != AZKV_OK) {
		cJSON_Delete(*items);
		*items = NULL;
	}
	return rc;
}
