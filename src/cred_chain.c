/* "default": the Azure SDKs' DefaultAzureCredential order (environment,
 * workload identity, managed identity, Azure CLI). A source that cannot
 * work here (AZKV_ERR_UNAVAILABLE: its variables are not set, no IMDS
 * answers, no az) passes to the next; the first that answers is kept for
 * good, as the Python SDK keeps it; one that was tried and refused stops
 * the chain with its error, as the SDKs do, rather than hiding a broken
 * setup behind another identity. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cred_source.h"
#include "log.h"

#define WHY_MAX 200 /* of each source's reason in the combined message */

typedef struct chain_source {
	azkv_cred_source base;
	size_t n;
	azkv_cred_source **srcs; /* NULL: could not be made, why[i] says why */
	char **why;
	const char *const *names;
	pthread_mutex_t lock;     /* guards chosen */
	azkv_cred_source *chosen; /* the source that answered first */
} chain_source;

static azkv_rc chain_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                               azkv_token *out, azkv_err *err)
{
	chain_source *s = (chain_source *)src;
	azkv_cred_source *chosen;
	char reasons[AZKV_ERR_MESSAGE_MAX] = "";
	size_t len = 0;
	azkv_err e;
	azkv_rc rc;

	pthread_mutex_lock(&s->lock);
	chosen = s->chosen;
	pthread_mutex_unlock(&s->lock);
	if (chosen)
		return chosen->get_token(chosen, scope, tenant, out, err);
	for (size_t i = 0; i < s->n; i++) {
		azkv_err_clear(&e);
		if (!s->srcs[i]) {
			snprintf(e.message, sizeof(e.message), "%s", s->why[i]);
			rc = AZKV_ERR_UNAVAILABLE;
		} else {
			rc = s->srcs[i]->get_token(s->srcs[i], scope, tenant, out, &e);
		}
		if (rc == AZKV_OK) {
			pthread_mutex_lock(&s->lock);
			if (!s->chosen)
				s->chosen = s->srcs[i];
			pthread_mutex_unlock(&s->lock);
			azkv_info("credential default: %s answered%s", s->srcs[i]->name,
			          i ? " (the sources before it are unavailable here)" : "");
			return AZKV_OK;
		}
		if (rc != AZKV_ERR_UNAVAILABLE) {
			if (err)
				*err = e;
			return azkv_err_set(err, rc, "credential default: %s failed: %s",
			                    s->srcs[i] ? s->srcs[i]->name : s->names[i], e.message);
		}
		azkv_info("credential default: %s is unavailable: %s", s->names[i], e.message);
		len += (size_t)snprintf(
		        reasons + len, len < sizeof(reasons) ? sizeof(reasons) - len : 0,
		        "%s[%s] %.*s", i ? "; " : "", s->names[i], WHY_MAX, e.message);
		if (len >= sizeof(reasons))
			len = sizeof(reasons) - 1;
	}
	return azkv_err_set(err, AZKV_ERR_UNAVAILABLE,
	                    "credential default: no credential is available here: %s. Set one "
	                    "up (README: \"Credentials\") or choose credential.type",
	                    reasons);
}

/* The sources are fixed when the chain is made: no lock needed. */
static void chain_wipe(azkv_cred_source *src)
{
	chain_source *s = (chain_source *)src;

	for (size_t i = 0; i < s->n; i++)
		if (s->srcs[i] && s->srcs[i]->wipe)
			s->srcs[i]->wipe(s->srcs[i]);
}

static void chain_free(azkv_cred_source *src)
{
	chain_source *s = (chain_source *)src;

	for (size_t i = 0; i < s->n; i++) {
		if (s->srcs[i])
			s->srcs[i]->free(s->srcs[i]);
		free(s->why[i]);
	}
	free(s->srcs);
	free(s->why);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

azkv_rc azkv_src_chain_new(azkv_cred_source **srcs, char **why, const char *const *names, size_t n,
                           azkv_cred_source **out, azkv_err *err)
{
	chain_source *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s && pthread_mutex_init(&s->lock, NULL) == 0) {
		s->srcs = calloc(n, sizeof(*s->srcs));
		s->why = calloc(n, sizeof(*s->why));
	}
	if (!s || !s->srcs || !s->why) {
		for (size_t i = 0; i < n; i++) {
			if (srcs[i])
				srcs[i]->free(srcs[i]);
			free(why[i]);
		}
		if (s) {
			free(s->srcs);
			free(s->why);
			free(s);
		}
		return azkv_err_set(err, AZKV_ERR_NOMEM, "credential: out of memory");
	}
	s->base.name = "default";
	s->base.get_token = chain_get_token;
	s->base.free = chain_free;
	s->base.wipe = chain_wipe;
	s->n = n;
	s->names = names;
	memcpy(s->srcs, srcs, n * sizeof(*srcs));
	memcpy(s->why, why, n * sizeof(*why));
	*out = &s->base;
	return AZKV_OK;
}
