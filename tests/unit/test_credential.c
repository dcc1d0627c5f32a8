/* The credential's token cache over a fake source: one ask for many
 * threads, refresh ahead of expiry, a failed refresh that keeps a valid
 * token, errors shared with the threads that waited; a bounded cache; the
 * tenants a challenge may name; the default chain;
 * the shapes of token answers; the managed-identity retry schedule. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "credential.h"
#include "cred_source.h"

#define THREADS 16
#define SCOPE   "https://vault.azure.net/.default"

/* ---------------------------------------------------------------- fake source */

typedef struct fake_source {
	azkv_cred_source base;
	pthread_mutex_t lock;
	int calls;
	int lifetime_s;   /* of each token issued */
	int refresh_in_s; /* 0: none */
	int delay_ms;     /* each ask takes this long */
	azkv_rc fail;     /* AZKV_OK: answer; else fail with this */
	char last_tenant[64];
} fake_source;

static azkv_rc fake_get_token(azkv_cred_source *src, const char *scope, const char *tenant,
                              azkv_token *out, azkv_err *err)
{
	fake_source *f = (fake_source *)src;
	char text[32];
	int n;

	(void)scope;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&f->lock);
	n = ++f->calls;
	snprintf(f->last_tenant, sizeof(f->last_tenant), "%s", tenant ? tenant : "(own)");
	pthread_mutex_unlock(&f->lock);
	if (f->delay_ms)
		usleep((useconds_t)f->delay_ms * 1000);
	if (f->fail != AZKV_OK)
		return azkv_err_set(err, f->fail, "fake: refused (ask %d)", n);
	snprintf(text, sizeof(text), "token-%d", n);
	out->value = strdup(text);
	out->expires_on = (int64_t)time(NULL) + f->lifetime_s;
	if (f->refresh_in_s)
		out->refresh_on = (int64_t)time(NULL) + f->refresh_in_s;
	return AZKV_OK;
}

static void fake_free(azkv_cred_source *src)
{
	(void)src; /* the test's: on its stack or in its fixture */
}

static void fake_init(fake_source *f, const char *name, int lifetime_s)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->base.name = name;
	f->base.get_token = fake_get_token;
	f->base.free = fake_free;
	f->lifetime_s = lifetime_s;
}

static int calls_of(fake_source *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->calls;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static azkv_credential *cred_over(fake_source *f)
{
	azkv_credential *cred = NULL;
	azkv_err err;

	assert_int_equal(azkv_credential_new_from_source(&f->base, "tenant-a", &cred, &err),
	                 AZKV_OK);
	return cred;
}

/* A credential over one fake source, for a test of its cache: tokens of
 * an hour unless the test sets f.lifetime_s before its first ask. */
typedef struct cache_test {
	fake_source f;
	azkv_credential *cred;
} cache_test;

static int cache_setup(void **state)
{
	cache_test *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	fake_init(&t->f, "fake", 3600);
	t->cred = cred_over(&t->f);
	*state = t;
	return 0;
}

static int cache_teardown(void **state)
{
	cache_test *t = *state;

	azkv_credential_free(t->cred);
	free(t);
	return 0;
}

/* ---------------------------------------------------------------- many threads */

typedef struct asker {
	pthread_t thread;
	azkv_credential *cred;
	pthread_barrier_t *start;
	azkv_rc rc;
	char token[32];
	char message[AZKV_ERR_MESSAGE_MAX];
} asker;

static void *ask(void *arg)
{
	asker *a = arg;
	char *token = NULL;
	azkv_err err;

	azkv_err_clear(&err);
	pthread_barrier_wait(a->start);
	a->rc = azkv_credential_get_token(a->cred, SCOPE, NULL, &token, &err);
	snprintf(a->token, sizeof(a->token), "%s", token ? token : "");
	snprintf(a->message, sizeof(a->message), "%s", err.message);
	free(token);
	return NULL;
}

/* THREADS threads ask at the same moment. */
static void ask_together(azkv_credential *cred, asker *askers)
{
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		askers[i].cred = cred;
		askers[i].start = &start;
		assert_int_equal(pthread_create(&askers[i].thread, NULL, ask, &askers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(askers[i].thread, NULL);
	pthread_barrier_destroy(&start);
}

static char *get(azkv_credential *cred, azkv_rc want)
{
	char *token = NULL;
	azkv_err err;

	azkv_err_clear(&err);
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, NULL, &token, &err), want);
	return token;
}

/* The next token of the default tenant and scope is want. */
static void next_token_is(azkv_credential *cred, const char *want)
{
	char *t = get(cred, AZKV_OK);

	assert_string_equal(t, want);
	free(t);
}

/* Every thread got rc and, when AZKV_OK, the token want; else the message
 * want. */
static void every_thread_got(const asker *askers, azkv_rc rc, const char *want)
{
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(askers[i].rc, rc);
		assert_string_equal(rc == AZKV_OK ? askers[i].token : askers[i].message, want);
	}
}

static void first_token_is_asked_once_for_many_threads(void **state)
{
	cache_test *t = *state;
	fake_source *f = &t->f;
	azkv_credential *cred = t->cred;
	asker askers[THREADS];

	f->delay_ms = 200; /* every thread arrives while the first asks */
	ask_together(cred, askers);
	assert_int_equal(calls_of(f), 1);
	every_thread_got(askers, AZKV_OK, "token-1");
	/* The configured tenant goes to the source. */
	assert_string_equal(f->last_tenant, "tenant-a");
}

static void expired_token_is_refreshed_once_with_threads_waiting(void **state)
{
	cache_test *t = *state;
	fake_source *f = &t->f;
	azkv_credential *cred = t->cred;
	asker askers[THREADS];

	f->lifetime_s = 2;
	free(get(cred, AZKV_OK));
	assert_int_equal(calls_of(f), 1);
	usleep(2200 * 1000); /* the token has expired */
	f->delay_ms = 300;
	ask_together(cred, askers);
	assert_int_equal(calls_of(f), 2);
	/* No thread may use the expired token: all got the new one. */
	every_thread_got(askers, AZKV_OK, "token-2");
}

static void valid_token_is_refreshed_ahead_of_expiry_once(void **state)
{
	cache_test *t = *state;
	fake_source *f = &t->f;
	azkv_credential *cred = t->cred;
	asker askers[THREADS];

	f->lifetime_s = 4; /* refresh after 2 s (half of a short life) */
	free(get(cred, AZKV_OK));
	next_token_is(cred, "token-1"); /* cached */
	usleep(2300 * 1000);
	f->delay_ms = 300;
	ask_together(cred, askers);
	assert_int_equal(calls_of(f), 2);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(askers[i].rc, AZKV_OK);
		/* The token being refreshed is still valid: either will do. */
		if (strcmp(askers[i].token, "token-1") != 0 &&
		    strcmp(askers[i].token, "token-2") != 0)
			fail_msg("thread %d got %s", i, askers[i].token);
	}
	next_token_is(cred, "token-2");
}

static void failed_refresh_keeps_the_valid_token_until_it_expires(void **state)
{
	cache_test *t = *state;
	fake_source *f = &t->f;
	azkv_credential *cred = t->cred;

	f->lifetime_s = 4;
	free(get(cred, AZKV_OK));
	usleep(2300 * 1000); /* in the refresh window */
	f->fail = AZKV_ERR_SERVER;
	next_token_is(cred, "token-1");
	assert_int_equal(calls_of(f), 2);
	/* Not asked again at once after a failure. */
	next_token_is(cred, "token-1");
	assert_int_equal(calls_of(f), 2);
	usleep(2000 * 1000); /* expired */
	assert_null(get(cred, AZKV_ERR_SERVER));
	assert_int_equal(calls_of(f), 3);
}

static void threads_that_waited_share_the_error(void **state)
{
	cache_test *t = *state;
	fake_source *f = &t->f;
	azkv_credential *cred = t->cred;
	asker askers[THREADS];

	f->fail = AZKV_ERR_AUTH;
	f->delay_ms = 300;
	ask_together(cred, askers);
	assert_int_equal(calls_of(f), 1);
	every_thread_got(askers, AZKV_ERR_AUTH, "fake: refused (ask 1)");
}

static void tokens_are_cached_per_tenant_and_scope(void **state)
{
	cache_test *t = *state;
	fake_source *f = &t->f;
	azkv_credential *cred = t->cred;
	char *token = NULL;
	azkv_err err;

	free(get(cred, AZKV_OK));
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, "tenant-b", &token, &err), AZKV_OK);
	assert_string_equal(token, "token-2");
	assert_string_equal(f->last_tenant, "tenant-b");
	free(token);
	assert_int_equal(azkv_credential_get_token(cred, "https://management.azure.com/.default",
	                                           NULL, &token, &err),
	                 AZKV_OK);
	assert_string_equal(token, "token-3");
	free(token);
	next_token_is(cred, "token-1");
	/* A 401 drops the scope's token: the next ask gets a new one. */
	azkv_credential_invalidate(cred, SCOPE);
	next_token_is(cred, "token-4");
}

/* Challenges naming ever new scopes cannot grow the cache without
 * bound: past its cap, entries are dropped (and freed: valgrind sees no
 * leak), and the ones still in use stay. */
static void cache_stays_bounded_with_many_scopes(void **state)
{
	cache_test *t = *state;
	fake_source *f = &t->f;
	azkv_credential *cred = t->cred;
	char scope[64], *token = NULL;
	azkv_err err;

	free(get(cred, AZKV_OK)); /* token-1 for SCOPE */
	for (int i = 0; i < 200; i++) {
		snprintf(scope, sizeof(scope), "https://v%d.example.net/.default", i);
		assert_int_equal(azkv_credential_get_token(cred, scope, NULL, &token, &err),
		                 AZKV_OK);
		free(token);
		/* SCOPE is used all along: the least recently used go first. */
		free(get(cred, AZKV_OK));
		assert_true(azkv_credential_cache_size(cred) <= 16);
	}
	assert_int_equal(azkv_credential_cache_size(cred), 16);
	assert_int_equal(calls_of(f), 201);
	next_token_is(cred, "token-1");
	/* An evicted scope is simply asked for again. */
	assert_int_equal(azkv_credential_get_token(cred, "https://v0.example.net/.default", NULL,
	                                           &token, &err),
	                 AZKV_OK);
	assert_string_equal(token, "token-202");
	free(token);
}

/* As azure-identity's additionally_allowed_tenants: a challenge's tenant
 * other than the credential's own is refused unless listed (or "*"),
 * case-insensitively, before any token is asked; a credential with no
 * tenant of its own may be asked for any. */
static void challenge_tenant_needs_the_allow_list(void **state)
{
	static const char *const listed[] = {"Tenant-B"};
	static const char *const any[] = {"*"};
	fake_source f;
	azkv_credential *cred;
	char *token = NULL;
	azkv_err err;

	(void)state;
	fake_init(&f, "fake", 3600);
	cred = cred_over(&f);
	assert_int_equal(azkv_credential_allow_tenants(cred, "tenant-a", NULL, 0,
	                                               "credential.additionally_allowed_tenants",
	                                               &err),
	                 AZKV_OK);
	azkv_err_clear(&err);
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, "tenant-b", &token, &err),
	                 AZKV_ERR_AUTH);
	assert_null(token);
	assert_int_equal(calls_of(&f), 0);
	assert_non_null(strstr(err.message, "tenant-b"));
	assert_non_null(strstr(err.message, "tenant-a"));
	assert_non_null(strstr(err.message, "credential.additionally_allowed_tenants"));
	/* Its own tenant, in any case, and none named: asked. */
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, "TENANT-A", &token, &err), AZKV_OK);
	free(token);
	free(get(cred, AZKV_OK));
	azkv_credential_free(cred);

	fake_init(&f, "fake", 3600);
	cred = cred_over(&f);
	assert_int_equal(azkv_credential_allow_tenants(cred, "tenant-a", listed, 1, NULL, &err),
	                 AZKV_OK);
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, "tenant-b", &token, &err), AZKV_OK);
	assert_string_equal(f.last_tenant, "tenant-b");
	free(token);
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, "tenant-c", &token, &err),
	                 AZKV_ERR_AUTH);
	azkv_credential_free(cred);

	fake_init(&f, "fake", 3600);
	cred = cred_over(&f);
	assert_int_equal(azkv_credential_allow_tenants(cred, "tenant-a", any, 1, NULL, &err),
	                 AZKV_OK);
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, "tenant-c", &token, &err), AZKV_OK);
	free(token);
	azkv_credential_free(cred);

	/* No tenant of its own (the Azure CLI's default account): any. */
	fake_init(&f, "fake", 3600);
	cred = cred_over(&f);
	assert_int_equal(azkv_credential_allow_tenants(cred, NULL, NULL, 0, NULL, &err), AZKV_OK);
	assert_int_equal(azkv_credential_get_token(cred, SCOPE, "tenant-c", &token, &err), AZKV_OK);
	free(token);
	azkv_credential_free(cred);
}

/* The SDKs refresh five minutes early; MSAL at half-life for long-lived
 * tokens and at refresh_in when Entra or IMDS sends it. */
static void refresh_point_follows_the_sdks(void **state)
{
	(void)state;
	assert_int_equal(azkv_token_refresh_in(3599, 0), 3299);
	assert_int_equal(azkv_token_refresh_in(86400, 0), 43200);
	assert_int_equal(azkv_token_refresh_in(86400, 3600), 3600);
	assert_int_equal(azkv_token_refresh_in(3600, 5000), 3300); /* later than expiry: ignored */
	assert_int_equal(azkv_token_refresh_in(400, 0), 200);
	assert_int_equal(azkv_token_refresh_in(1, 0), 1);
}

/* ---------------------------------------------------------------- the chain */

static void chain_takes_the_first_available_and_keeps_it(void **state)
{
	fake_source env, wi, mi, cli;
	azkv_cred_source *srcs[4] = {&env.base, NULL, &mi.base, &cli.base};
	char *why[4] = {NULL, strdup("workload_identity: AZURE_FEDERATED_TOKEN_FILE is not set"),
	                NULL, NULL};
	static const char *const names[] = {"environment", "workload_identity", "managed_identity",
	                                    "azure_cli"};
	azkv_cred_source *chain = NULL;
	azkv_token tok = {0};
	azkv_err err;

	(void)state;
	fake_init(&env, "environment", 3600);
	fake_init(&wi, "workload_identity", 3600);
	fake_init(&mi, "managed_identity (IMDS)", 3600);
	fake_init(&cli, "azure_cli", 3600);
	env.fail = AZKV_ERR_UNAVAILABLE;
	mi.fail = AZKV_ERR_UNAVAILABLE;
	assert_int_equal(azkv_src_chain_new(srcs, why, names, 4, &chain, &err), AZKV_OK);
	assert_int_equal(chain->get_token(chain, SCOPE, NULL, &tok, &err), AZKV_OK);
	assert_string_equal(tok.value, "token-1");
	azkv_token_clear(&tok);
	assert_int_equal(calls_of(&env), 1);
	assert_int_equal(calls_of(&mi), 1);
	assert_int_equal(calls_of(&cli), 1);
	/* The one that answered is kept: nothing before it is asked again. */
	assert_int_equal(chain->get_token(chain, SCOPE, NULL, &tok, &err), AZKV_OK);
	azkv_token_clear(&tok);
	assert_int_equal(calls_of(&env), 1);
	assert_int_equal(calls_of(&mi), 1);
	assert_int_equal(calls_of(&cli), 2);
	chain->free(chain);
}

static void chain_stops_at_a_credential_that_refused(void **state)
{
	fake_source env, cli;
	azkv_cred_source *srcs[2] = {&env.base, &cli.base};
	char *why[2] = {NULL, NULL};
	static const char *const names[] = {"environment", "azure_cli"};
	azkv_cred_source *chain = NULL;
	azkv_token tok = {0};
	azkv_err err;

	(void)state;
	fake_init(&env, "client_secret", 3600);
	fake_init(&cli, "azure_cli", 3600);
	env.fail = AZKV_ERR_AUTH;
	assert_int_equal(azkv_src_chain_new(srcs, why, names, 2, &chain, &err), AZKV_OK);
	assert_int_equal(chain->get_token(chain, SCOPE, NULL, &tok, &err), AZKV_ERR_AUTH);
	assert_non_null(strstr(err.message, "client_secret failed: fake: refused"));
	assert_int_equal(calls_of(&cli), 0);
	chain->free(chain);
}

static void chain_with_nothing_available_says_why_for_each(void **state)
{
	fake_source mi;
	azkv_cred_source *srcs[3] = {NULL, NULL, &mi.base};
	char *why[3] = {strdup("environment: AZURE_TENANT_ID is not set"),
	                strdup("workload_identity: AZURE_FEDERATED_TOKEN_FILE is not set"), NULL};
	static const char *const names[] = {"environment", "workload_identity", "managed_identity"};
	azkv_cred_source *chain = NULL;
	azkv_token tok = {0};
	azkv_err err;

	(void)state;
	fake_init(&mi, "managed_identity (IMDS)", 3600);
	mi.fail = AZKV_ERR_UNAVAILABLE;
	assert_int_equal(azkv_src_chain_new(srcs, why, names, 3, &chain, &err), AZKV_OK);
	assert_int_equal(chain->get_token(chain, SCOPE, NULL, &tok, &err), AZKV_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.message, "[environment] environment: AZURE_TENANT_ID"));
	assert_non_null(strstr(err.message, "[workload_identity] workload_identity: "));
	assert_non_null(strstr(err.message, "[managed_identity] fake: refused"));
	chain->free(chain);
}

/* ---------------------------------------------------------------- answers */

static void token_answers_of_each_endpoint_parse(void **state)
{
	azkv_token t;
	azkv_err err;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	/* Entra v2: expires_in a number, maybe refresh_in. */
	assert_int_equal(azkv_token_parse("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
	                                  "\"ext_expires_in\":3599,\"refresh_in\":1800,"
	                                  "\"access_token\":\"eyJ.a.b\"}",
	                                  "entra", &t, &err),
	                 AZKV_OK);
	assert_string_equal(t.value, "eyJ.a.b");
	assert_in_range(t.expires_on, now + 3598, now + 3600);
	assert_in_range(t.refresh_on, now + 1799, now + 1801);
	azkv_token_clear(&t);
	/* IMDS and Entra v1: numbers as strings. */
	assert_int_equal(azkv_token_parse("{\"access_token\":\"x\",\"expires_in\":\"86399\","
	                                  "\"expires_on\":\"1\",\"resource\":\"r\"}",
	                                  "imds", &t, &err),
	                 AZKV_OK);
	assert_in_range(t.expires_on, now + 86398, now + 86400);
	azkv_token_clear(&t);
	/* App Service 2019-08-01: expires_on only, Unix seconds as a string. */
	char json[200];
	snprintf(json, sizeof(json), "{\"access_token\":\"x\",\"expires_on\":\"%lld\"}",
	         (long long)now + 600);
	assert_int_equal(azkv_token_parse(json, "app service", &t, &err), AZKV_OK);
	assert_int_equal(t.expires_on, now + 600);
	assert_int_equal(t.refresh_on, 0);
	azkv_token_clear(&t);
	/* App Service 2017-09-01: a date, "06/20/2019 02:57:58 +00:00". */
	time_t when = (time_t)(now + 900);
	struct tm tm;
	char date[64];
	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%m/%d/%Y %H:%M:%S +00:00", &tm);
	snprintf(json, sizeof(json), "{\"access_token\":\"x\",\"expires_on\":\"%s\"}", date);
	assert_int_equal(azkv_token_parse(json, "app service", &t, &err), AZKV_OK);
	assert_int_equal(t.expires_on, now + 900);
	azkv_token_clear(&t);
	/* Refusals: no token, no expiry, an expiry in the past, not JSON. */
	assert_int_equal(azkv_token_parse("{\"expires_in\":10}", "e", &t, &err), AZKV_ERR_PROTOCOL);
	assert_non_null(strstr(err.message, "access_token"));
	assert_int_equal(azkv_token_parse("{\"access_token\":\"x\"}", "e", &t, &err),
	                 AZKV_ERR_PROTOCOL);
	assert_int_equal(
	        azkv_token_parse("{\"access_token\":\"x\",\"expires_on\":\"5\"}", "e", &t, &err),
	        AZKV_ERR_PROTOCOL);
	assert_int_equal(azkv_token_parse("<html>", "e", &t, &err), AZKV_ERR_PROTOCOL);
	assert_null(t.value);
	/* Lifetimes past any token's, whose sum with the clock would overflow
	 * (fuzz_token; UBSan reports the overflow): refused, or, for
	 * refresh_in, ignored. */
	assert_int_equal(azkv_token_parse("{\"access_token\":\"x\","
	                                  "\"expires_in\":\"8641844674407370955161600\"}",
	                                  "e", &t, &err),
	                 AZKV_ERR_PROTOCOL);
	assert_int_equal(azkv_token_parse("{\"access_token\":\"x\","
	                                  "\"expires_in\":9223372036854775807}",
	                                  "e", &t, &err),
	                 AZKV_ERR_PROTOCOL);
	assert_int_equal(azkv_token_parse("{\"access_token\":\"x\",\"expires_in\":3599,"
	                                  "\"refresh_in\":\"9223372036854775807\"}",
	                                  "e", &t, &err),
	                 AZKV_OK);
	assert_int_equal(t.refresh_on, 0);
	azkv_token_clear(&t);
}

/* What the Azure CLI prints: expires_on (az 2.54 on) or expiresOn in
 * local time. An expiry no token has (fuzz_token found 1e308, whose cast
 * to an integer is undefined; 9e18 lies in range but is 285 billion
 * years away) is refused like the token services' answers are. */
static void azure_cli_output_parses_and_far_expiries_are_refused(void **state)
{
	long long now = (long long)time(NULL);
	const char *far[] = {"1e308", "-1e308", "9e18", "\"9000000000000000000\""};
	char text[200];
	azkv_token t;
	azkv_err err;
	cJSON *json;

	(void)state;
	snprintf(text, sizeof(text), "{\"accessToken\":\"x\",\"expires_on\":%lld}", now + 3600);
	json = cJSON_Parse(text);
	assert_int_equal(azkv_cli_token_parse(json, &t, &err), AZKV_OK);
	assert_int_equal(t.expires_on, now + 3600);
	assert_string_equal(cJSON_GetObjectItem(json, "accessToken")->valuestring, "");
	azkv_token_clear(&t);
	cJSON_Delete(json);
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		snprintf(text, sizeof(text), "{\"accessToken\":\"x\",\"expires_on\":%s}", far[i]);
		json = cJSON_Parse(text);
		assert_int_equal(azkv_cli_token_parse(json, &t, &err), AZKV_ERR_PROTOCOL);
		assert_null(t.value);
		cJSON_Delete(json);
	}
}

/* An Entra refusal's description is quoted with the secret masked, each
 * place once: a secret of '*' only used to be found again in its own
 * mask forever (alarm: the test fails rather than hangs). */
static void entra_refusal_masks_the_secret_and_ends(void **state)
{
	char body[] = "{\"error\":\"invalid_client\",\"error_description\":"
	              "\"AADSTS7000215: Invalid client secret provided: s3cret and **.\"}";
	azkv_http_response resp = {.status = 401, .body = body, .body_len = sizeof(body) - 1};
	azkv_err err;

	(void)state;
	alarm(10);
	assert_int_equal(azkv_entra_error("https://login", "scope", "t", "s3cret", &resp, &err),
	                 AZKV_ERR_AUTH);
	assert_non_null(strstr(err.message, "AADSTS7000215"));
	assert_null(strstr(err.message, "s3cret"));
	assert_non_null(strstr(err.message, "provided: ****** and"));
	assert_int_equal(azkv_entra_error("https://login", "scope", "t", "**", &resp, &err),
	                 AZKV_ERR_AUTH);
	assert_string_equal(err.code, "invalid_client");
	alarm(0);
}

/* IMDS: 404, 410, 429 and 5xx retried; 0.8 s doubling five times; 410
 * every 10 s for 70 s; Retry-After wins. App Service and Arc: 429/5xx. */
static void managed_identity_retries_as_the_sdks_do(void **state)
{
	(void)state;
	assert_int_equal(azkv_mi_retry_delay_ms(1, 404, 0, 5, NULL), 800);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 500, 1, 5, NULL), 1600);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 503, 4, 5, NULL), 12800);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 429, 5, 5, NULL), -1);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 429, 0, 5, "2"), 2000);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 410, 0, 5, NULL), 10000);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 410, 6, 5, NULL), 10000);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 410, 7, 5, NULL), -1);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 400, 0, 5, NULL), -1);
	assert_int_equal(azkv_mi_retry_delay_ms(1, 401, 0, 5, NULL), -1);
	assert_int_equal(azkv_mi_retry_delay_ms(0, 404, 0, 3, NULL), -1);
	assert_int_equal(azkv_mi_retry_delay_ms(0, 410, 0, 3, NULL), -1);
	assert_int_equal(azkv_mi_retry_delay_ms(0, 502, 2, 3, NULL), 3200);
	assert_int_equal(azkv_mi_retry_delay_ms(0, 502, 3, 3, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(first_token_is_asked_once_for_many_threads,
	                                        cache_setup, cache_teardown),
	        cmocka_unit_test_setup_teardown(
	                expired_token_is_refreshed_once_with_threads_waiting, cache_setup,
	                cache_teardown),
	        cmocka_unit_test_setup_teardown(valid_token_is_refreshed_ahead_of_expiry_once,
	                                        cache_setup, cache_teardown),
	        cmocka_unit_test_setup_teardown(
	                failed_refresh_keeps_the_valid_token_until_it_expires, cache_setup,
	                cache_teardown),
	        cmocka_unit_test_setup_teardown(threads_that_waited_share_the_error, cache_setup,
	                                        cache_teardown),
	        cmocka_unit_test_setup_teardown(tokens_are_cached_per_tenant_and_scope, cache_setup,
	                                        cache_teardown),
	        cmocka_unit_test(refresh_point_follows_the_sdks),
	        cmocka_unit_test_setup_teardown(cache_stays_bounded_with_many_scopes, cache_setup,
	                                        cache_teardown),
	        cmocka_unit_test(challenge_tenant_needs_the_allow_list),
	        cmocka_unit_test(chain_takes_the_first_available_and_keeps_it),
	        cmocka_unit_test(chain_stops_at_a_credential_that_refused),
	        cmocka_unit_test(chain_with_nothing_available_says_why_for_each),
	        cmocka_unit_test(token_answers_of_each_endpoint_parse),
	        cmocka_unit_test(managed_identity_retries_as_the_sdks_do),
	        cmocka_unit_test(azure_cli_output_parses_and_far_expiries_are_refused),
	        cmocka_unit_test(entra_refusal_masks_the_secret_and_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
