/* Azure Resource Manager client: JSON requests on resource ids
 * ("/subscriptions/.../providers/...") with a bearer token for the
 * cloud's Resource Manager scope (https://management.azure.com/.default in
 * the public cloud), one retry after a 401 challenge
 * (the cached token is dropped), 429, transient 5xx and connection
 * failures retried by http.h's policy (Retry-After honoured, capped, a
 * deadline per request; POST and DELETE never sent twice once they may
 * have been applied), the token sent only to the endpoint, ARM error
 * bodies {"error":{"code",
 * "message"}} copied into azkv_err, and long-running operations
 * (Azure-AsyncOperation, Location) waited for. Thread-safe: the client
 * holds no per-request state. */
#ifndef AZKV_ARM_H
#define AZKV_ARM_H

#include <cjson/cJSON.h>

#include "cloud.h"
#include "credential.h"
#include "http.h"
#include "status.h"

typedef struct azkv_arm_client azkv_arm_client;

/* cloud NULL means the public cloud; endpoint NULL or "" means the
 * cloud's (tokens are always for the cloud's ARM scope, also when the
 * endpoint is another, e.g. the emulator); the retry policy is http's,
 * max_retries >= 0 overriding its count. http
 * and cred are borrowed and must outlive the client. No I/O. */
azkv_rc azkv_arm_client_new(const azkv_cloud *cloud, const char *endpoint, int max_retries,
                            azkv_http *http, azkv_credential *cred, azkv_arm_client **out,
                            azkv_err *err);
void azkv_arm_client_free(azkv_arm_client *arm);

/* Called on every poll of a long-running operation with its state
 * ("InProgress", "Succeeded", "Failed"), so a tool can show progress.
 * Not thread-safe to change while requests run. */
typedef void (*azkv_arm_progress_fn)(void *ctx, const char *state);
void azkv_arm_client_set_progress(azkv_arm_client *arm, azkv_arm_progress_fn fn, void *ctx);

/* One request: METHOD endpoint + resource_id + "?api-version=...".
 * resource_id must begin with '/'. body may be NULL (no body). On
 * AZKV_OK, *status is the final 2xx status and *response the parsed JSON
 * body, owned by the caller (cJSON_Delete), or NULL when the body is
 * empty (204, some 202). A 201/202 is returned as it is: no waiting (see
 * azkv_arm_request_wait). On error, err has the HTTP status, the ARM
 * error code and message (400 BAD_PARAMETER, 401 AUTH, 403 FORBIDDEN, 404
 * NOT_FOUND, 409 CONFLICT, 429 THROTTLED, 5xx SERVER); *status is the
 * last HTTP status seen (0 if none). */
azkv_rc azkv_arm_request(azkv_arm_client *arm, const char *method, const char *resource_id,
                         const char *api_version, const cJSON *body, cJSON **response, long *status,
                         azkv_err *err);

/* As azkv_arm_request, then, for a 201/202 that names an operation,
 * waits for it: with Azure-AsyncOperation, polls it until its status is
 * Succeeded, Failed or Canceled, then GETs resource_id (PUT, PATCH) or
 * the Location (other methods; nothing if absent); with Location only,
 * polls it until it answers other than 202 and returns that. Polls wait
 * Retry-After (capped at 60 s) or 1 s. timeout_ms <= 0 means 10 minutes;
 * running out is AZKV_ERR_NETWORK. A Failed or Canceled operation is
 * AZKV_ERR_SERVER (Canceled: AZKV_ERR_CONFLICT) with the operation's
 * error code and message. Poll URLs must be on the client's endpoint. */
azkv_rc azkv_arm_request_wait(azkv_arm_client *arm, const char *method, const char *resource_id,
                              const char *api_version, const cJSON *body, long timeout_ms,
                              cJSON **response, long *status, azkv_err *err);

/* GET of a collection (resource_id with an optional "?$filter=..."), then
 * of every nextLink it gives (only on the client's endpoint): the "value"
 * items of all pages, in order, in *items (a JSON array, caller frees). */
azkv_rc azkv_arm_list(azkv_arm_client *arm, const char *resource_id, const char *api_version,
                      cJSON **items, azkv_err *err);

/* ---- Parsing, offline ---------------------------------------------- */

typedef enum azkv_arm_op_state {
	AZKV_ARM_OP_RUNNING = 0, /* InProgress, Accepted, Running, anything else */
	AZKV_ARM_OP_SUCCEEDED,
	AZKV_ARM_OP_FAILED,
	AZKV_ARM_OP_CANCELED,
} azkv_arm_op_state;

/* Parses an Azure-AsyncOperation status body {"status", "error"}. For
 * Failed/Canceled, err (when not NULL) gets the operation's error code
 * and message and the matching rc (AZKV_ERR_SERVER, AZKV_ERR_CONFLICT);
 * the return value is AZKV_OK whenever the body could be read, and
 * AZKV_ERR_PROTOCOL when it is not JSON or has no "status" string. */
azkv_rc azkv_arm_op_status_parse(const char *json, azkv_arm_op_state *state, azkv_err *err);

/* The azkv_rc for a failed ARM response, with err filled from the body
 * {"error":{"code","message"}} (err->code, err->http_status); what (may
 * be NULL) begins the message. */
azkv_rc azkv_arm_error_from_response(long status, const char *body, const char *what,
                                     azkv_err *err);

#endif
