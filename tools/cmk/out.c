/* azkv-cmk output: messages for people, the --json document, and errors
 * with their fix and exit code. */
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
