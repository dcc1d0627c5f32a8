/* azkv-cmk output: messages for people, the --json document, errors with
 * their fix and exit code, and the one place where changes are sent (or,
 * under --dry-run, printed with their exact method, URL and body). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmk.h"
#include "log.h"

/* Text from Azure (error messages, names, URIs in responses) is printed
 * here, so every line goes through azkv_text_escape: a newline the format
 * ends with is kept, every other control character is shown escaped. */
__attribute__((format(printf, 2, 0))) static void vprint(FILE *f, const char *fmt, va_list ap)
{
	size_t fmt_len = strlen(fmt), len;
	int newline = fmt_len > 0 && fmt[fmt_len - 1] == '\n';
	char line[2048], *safe;
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	len = strlen(line);
	if (newline && len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	safe = malloc(4 * len + 1);
	if (!safe)
		return;
	fputs(azkv_text_escape(line, safe, 4 * len + 1), f);
	if (newline)
		fputc('\n', f);
	free(safe);
}

void cmk_print(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(f, fmt, ap);
	va_end(ap);
}

void cmk_say(const cmk_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->o->quiet)
		return;
	va_start(ap, fmt);
	vprint(c->o->json ? stderr : stdout, fmt, ap);
	va_end(ap);
	fflush(c->o->json ? stderr : stdout);
}

/* The --json document. cJSON escapes C0 controls in strings, not DEL, C1
 * or bidi controls, and passes bytes that are not UTF-8: those become
 * \uNNNN (U+FFFD for a bad byte), which only occur inside strings, so
 * the document means the same and is valid JSON. */
static void print_json(const char *text)
{
	size_t len;
	long cp;

	for (const char *p = text; *p; p += len) {
		if (azkv_text_next(p, &len, &cp) && (cp < 0 || cp >= 0x7F))
			printf("\\u%04lx", cp < 0 ? 0xFFFDL : cp);
		else
			fwrite(p, 1, len, stdout);
	}
	putchar('\n');
}

int cmk_fail(cmk_ctx *c, int exit_code, const char *fix, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cmk_print(stderr, "azkv-cmk: error: %s\n", msg);
	if (fix)
		cmk_print(stderr, "  fix: %s\n", fix);
	if (c && c->result && !cJSON_GetObjectItemCaseSensitive(c->result, "error")) {
		cJSON *e = cJSON_AddObjectToObject(c->result, "error");
		cJSON_AddStringToObject(e, "message", msg);
		if (fix)
			cJSON_AddStringToObject(e, "fix", fix);
		cJSON_AddNumberToObject(e, "exitCode", exit_code);
	}
	return exit_code;
}

int cmk_exit_for_rc(azkv_rc rc)
{
	switch (rc) {
	case AZKV_OK:
		return CMK_EXIT_OK;
	case AZKV_ERR_CONFIG:
		return CMK_EXIT_CONFIG;
	case AZKV_ERR_AUTH:
	case AZKV_ERR_UNAVAILABLE:
	case AZKV_ERR_FORBIDDEN:
		return CMK_EXIT_AUTH;
	case AZKV_ERR_NOT_FOUND:
		return CMK_EXIT_NOT_FOUND;
	case AZKV_ERR_BAD_PARAMETER:
	case AZKV_ERR_CONFLICT:
		return CMK_EXIT_REFUSED;
	case AZKV_ERR_INVALID_ARG:
		return CMK_EXIT_USAGE;
	default:
		return CMK_EXIT_SERVICE;
	}
}

int cmk_fail_err(cmk_ctx *c, const azkv_err *err, const char *fix, const char *what)
{
	int code = cmk_exit_for_rc(err->rc);

	if (!fix && code == CMK_EXIT_AUTH)
		fix = "check the credential in the configuration, and that this identity may do "
		      "this "
		      "(for the vault's keys: Key Vault Crypto Officer or Administrator; for role "
		      "assignments: Owner or User Access Administrator)";
	if (!fix && code == CMK_EXIT_SERVICE)
		fix = "try again; with --verbose the log shows each request";
	if (err->code[0] && c && c->result) {
		cmk_fail(c, code, fix, "%s: %s", what, err->message);
		cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(c->result, "error"),
		                        "azureCode", err->code);
		return code;
	}
	return cmk_fail(c, code, fix, "%s: %s", what, err->message);
}

/* ---- JSON helpers ----------------------------------------------------- */

const cJSON *cmk_item(const cJSON *obj, const char *dotted_path)
{
	char buf[256], *save = NULL;
	const cJSON *item = obj;

	snprintf(buf, sizeof(buf), "%s", dotted_path);
	for (char *p = strtok_r(buf, ".", &save); p && item; p = strtok_r(NULL, ".", &save))
		item = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, p) : NULL;
	return item;
}

const char *cmk_str(const cJSON *obj, const char *dotted_path)
{
	const cJSON *item = cmk_item(obj, dotted_path);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

int cmk_bool(const cJSON *obj, const char *dotted_path, int dflt)
{
	const cJSON *item = cmk_item(obj, dotted_path);

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : dflt;
}

/* ---- changes ------------------------------------------------------------ */

static void record(cmk_ctx *c, const char *method, const char *url, const cJSON *body)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "method", method);
	cJSON_AddStringToObject(req, "url", url);
	cJSON_AddItemToObject(req, "body", body ? cJSON_Duplicate(body, 1) : cJSON_CreateNull());
	cJSON_AddItemToArray(c->requests, req);
	if (!c->o->json) {
		char *text = body ? cJSON_Print(body) : NULL;

		cmk_print(stdout, "would send: %s %s\n", method, url);
		if (text) {
			for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
				/* cJSON indents with tabs and puts one after each ':'. */
				int depth = 0;

				for (; *line == '\t'; line++)
					depth++;
				for (char *p = line; *p; p++)
					*p = *p == '\t' ? ' ' : *p;
				cmk_print(stdout, "    %*s%s\n", 2 * depth, "", line);
			}
		}
		free(text);
	}
}

static void progress(void *ctx, const char *state)
{
	const cmk_ctx *c = ctx;

	cmk_say(c, "  ... operation %s\n", state);
}

int cmk_arm_change(cmk_ctx *c, const char *method, const char *resource_id, const char *api_version,
                   const cJSON *body, int wait, cJSON **response, const char *what)
{
	const char *endpoint =
	        c->cfg->arm_endpoint ? c->cfg->arm_endpoint : c->cfg->cloud->arm_endpoint;
	azkv_err err;
	long status = 0;
	azkv_rc rc;

	*response = NULL;
	c->changes++;
	if (c->o->dry_run) {
		size_t len = strlen(endpoint) + strlen(resource_id) + strlen(api_version) + 16;
		char *url = malloc(len);

		if (!url)
			return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
		snprintf(url, len, "%s%s?api-version=%s", endpoint, resource_id, api_version);
		record(c, method, url, body);
		free(url);
		return CMK_EXIT_OK;
	}
	azkv_err_clear(&err);
	if (wait) {
		cmk_say(c, "  %s: waiting for Azure to finish\n", what);
		azkv_arm_client_set_progress(c->arm, progress, c);
		rc = azkv_arm_request_wait(c->arm, method, resource_id, api_version, body, 0,
		                           response, &status, &err);
		azkv_arm_client_set_progress(c->arm, NULL, NULL);
	} else {
		rc = azkv_arm_request(c->arm, method, resource_id, api_version, body, response,
		                      &status, &err);
	}
	if (rc != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, what);
	return CMK_EXIT_OK;
}

int cmk_kv_change(cmk_ctx *c, const char *method, const char *const *segs, size_t n_segs,
                  const cJSON *body, cJSON **response, const char *what)
{
	azkv_err err;

	*response = NULL;
	c->changes++;
	if (c->o->dry_run) {
		char *url = azkv_kv_request_url(c->kv, segs, n_segs);

		if (!url)
			return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
		record(c, method, url, body);
		free(url);
		return CMK_EXIT_OK;
	}
	azkv_err_clear(&err);
	if (azkv_kv_json_request(c->kv, method, segs, n_segs, body, response, &err) != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, what);
	return CMK_EXIT_OK;
}

int cmk_arm_get(cmk_ctx *c, const char *resource_id, const char *api_version, cJSON **out,
                const char *what, const char *not_found_fix)
{
	azkv_err err;
	long status = 0;

	azkv_err_clear(&err);
	*out = NULL;
	if (azkv_arm_request(c->arm, "GET", resource_id, api_version, NULL, out, &status, &err) !=
	    AZKV_OK) {
		if (err.rc == AZKV_ERR_NOT_FOUND && not_found_fix)
			return cmk_fail(c, CMK_EXIT_NOT_FOUND, not_found_fix,
			                "%s: %s was not found", what, resource_id);
		return cmk_fail_err(c, &err, NULL, what);
	}
	if (!*out)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "%s: empty answer", what);
	return CMK_EXIT_OK;
}

int cmk_arm_list(cmk_ctx *c, const char *collection, const char *api_version, cJSON **items,
                 const char *what)
{
	azkv_err err;

	azkv_err_clear(&err);
	if (azkv_arm_list(c->arm, collection, api_version, items, &err) != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, what);
	return CMK_EXIT_OK;
}

int cmk_finish(cmk_ctx *c, int exit_code)
{
	if (c->o->dry_run) {
		cJSON_AddBoolToObject(c->result, "dryRun", 1);
		cJSON_AddItemReferenceToObject(c->result, "requests", c->requests);
		if (!c->o->json && exit_code == CMK_EXIT_OK)
			printf("dry run: %d request(s) shown above would be sent; nothing was "
			       "changed\n",
			       cJSON_GetArraySize(c->requests));
	}
	if (c->o->json) {
		char *text;

		cJSON_AddNumberToObject(c->result, "exitCode", exit_code);
		text = cJSON_Print(c->result);
		if (text)
			print_json(text);
		free(text);
	}
	return exit_code;
}
