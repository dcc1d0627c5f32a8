/* azkv-cmk requests: reads through Resource Manager, and the one place
 * where changes are sent to Resource Manager or the vault (or, under
 * --dry-run, printed with their exact method, URL and body instead). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmk.h"
#include "log.h"
#include "retry.h"

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

/* A long-running operation's progress, on stderr (stdout may be a
 * document): on a terminal one line, redrawn each second (a thread: Azure
 * may ask for a minute between polls) and at each poll, with the state and
 * the seconds so far; elsewhere only the line at the end. None with
 * --quiet. Only the line at the end, too, when log lines go to stderr
 * (-v, --debug, a level of info or more without a log file): a redrawn
 * line would be glued to them. */
typedef struct lro_progress {
	const char *what;
	const char *state; /* the last one Azure gave */
	long start_ms;
	int shown, tty;
	size_t width;         /* of the line on the terminal */
	pthread_mutex_t lock; /* the fields above, and the terminal's line */
	pthread_cond_t wake;
	int done, ticking;
	pthread_t ticker;
} lro_progress;

/* Under p->lock. */
static void progress_line(lro_progress *p, int end)
{
	long seconds = (azkv_now_ms() - p->start_ms + 500) / 1000;
	char line[256];
	size_t n;

	if (!p->shown || (!p->tty && !end))
		return;
	if (end)
		snprintf(line, sizeof(line), "  %s: operation %s after %ld s", p->what, p->state,
		         seconds);
	else
		snprintf(line, sizeof(line), "  %s: waiting for Azure (operation %s), %ld s",
		         p->what, p->state, seconds);
	n = strlen(line);
	/* On a terminal: back to the line's start, and over what is left of
	 * a longer line drawn before. */
	if (p->tty)
		fputc('\r', stderr);
	fputs(line, stderr);
	if (p->tty && p->width > n)
		fprintf(stderr, "%*s", (int)(p->width - n), "");
	if (end)
		fputc('\n', stderr);
	p->width = n;
	fflush(stderr);
}

static void *progress_ticker(void *arg)
{
	lro_progress *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->done) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&p->wake, &p->lock, &until);
		if (!p->done)
			progress_line(p, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void progress_start(lro_progress *p)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&p->lock, NULL);
	/* The wait is a second of elapsed time, whatever the wall clock does. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &attr);
	pthread_condattr_destroy(&attr);
	progress_line(p, 0);
	p->ticking =
	        p->shown && p->tty && pthread_create(&p->ticker, NULL, progress_ticker, p) == 0;
}

static void progress(void *ctx, const char *state)
{
	lro_progress *p = ctx;

	pthread_mutex_lock(&p->lock);
	p->state = state;
	progress_line(p, 0);
	pthread_mutex_unlock(&p->lock);
}

static void progress_end(lro_progress *p, const char *state)
{
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (p->ticking)
		pthread_join(p->ticker, NULL);
	if (state)
		p->state = state;
	progress_line(p, 1);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
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
		lro_progress p = {
		        .what = what,
		        .state = "started",
		        .start_ms = azkv_now_ms(),
		        .shown = !c->o->quiet,
		        .tty = isatty(STDERR_FILENO) &&
		               !(azkv_log_to_stderr() && azkv_log_enabled(AZKV_LOG_INFO))};

		progress_start(&p);
		azkv_arm_client_set_progress(c->arm, progress, &p);
		rc = azkv_arm_request_wait(c->arm, method, resource_id, api_version, body, 0,
		                           response, &status, &err);
		azkv_arm_client_set_progress(c->arm, NULL, NULL);
		progress_end(&p, rc != AZKV_OK ? "failed" : NULL);
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
