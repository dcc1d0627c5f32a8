/* azkv-cmk output: messages for people, the output document, and errors
 * with their fix and exit code. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	safe = cmk_escaped(line);
	if (!safe)
		return;
	fputs(safe, f);
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

int cmk_colour(FILE *f)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(fileno(f)) && !(no_color && no_color[0]) &&
	       !(term && strcmp(term, "dumb") == 0);
}

const char *cmk_error_prefix(void)
{
	return cmk_colour(stderr) ? "\033[31mazkv-cmk: error:\033[0m" : "azkv-cmk: error:";
}

int cmk_fail(cmk_ctx *c, int exit_code, const char *fix, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s ", cmk_error_prefix());
	cmk_print(stderr, "%s\n", msg);
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
		cJSON *queried;
		int rc = 0, too_big = 0;

		cJSON_AddNumberToObject(c->result, "exitCode", exit_code);
		queried = c->o->query ? cmk_query_eval(c->o->query, c->result, &too_big) : NULL;
		if (!too_big)
			rc = cmk_output_write(stdout, c->o->output,
			                      c->o->query ? queried : c->result,
			                      cmk_colour(stdout));
		cJSON_Delete(queried);
		if (too_big)
			rc = cmk_fail(NULL, CMK_EXIT_USAGE,
			              "choose fewer copies of the document: a multiselect such as "
			              "[@, @] or {a: @, b: @} in each of many stages doubles it",
			              "--query: its result would take more than a million JSON "
			              "values");
		else if (rc != 0 && c->o->output == CMK_OUTPUT_TABLE)
			rc = cmk_fail(
			        NULL, CMK_EXIT_USAGE,
			        "choose the values with --query (azkv-cmk(1), QUERIES), or use "
			        "--output json",
			        "table output unavailable: no value at the document's top level "
			        "(or its list's elements') is a string, number or boolean");
		else if (rc != 0)
			rc = cmk_fail(NULL, CMK_EXIT_SERVICE, "use --output json",
			              "writing the YAML output failed");
		/* The command's own failure says more than the form's. */
		if (rc != 0 && exit_code == CMK_EXIT_OK)
			exit_code = rc;
	}
	/* A full disk or a closed file: the output is not there, so the
	 * command did not do what was asked. */
	if ((fflush(stdout) != 0 || ferror(stdout)) && exit_code == CMK_EXIT_OK)
		exit_code = cmk_fail(NULL, CMK_EXIT_SERVICE,
		                     "check where standard output goes (a full disk, a file "
		                     "that cannot be written)",
		                     "writing the output to standard output failed: %s",
		                     strerror(errno));
	return exit_code;
}
