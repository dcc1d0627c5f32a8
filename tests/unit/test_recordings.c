/* Replays every response body of the real Key Vault traffic in
 * RECORDINGS_DIR (recorded by the Azure SDKs' own tests) through the
 * core's parsers. Each call is classified by method and URL path; every
 * in-scope response must parse, and each file kind must yield parsed
 * responses of every kind it holds, so a parsing regression fails here.
 * Calls of operations the module does not use are counted apart and
 * listed; a call nobody classified fails the test. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "challenge.h"
#include "keyvault.h"

#ifndef RECORDINGS_DIR
#define RECORDINGS_DIR "tests/recordings"
#endif

enum kind {
	K_BUNDLE,     /* create, import, get, update, rotate: azkv_key_parse */
	K_LIST,       /* GET /keys, /keys/{name}/versions: page parse */
	K_OP_RESULT,  /* wrapkey, unwrapkey, encrypt, decrypt, sign: {"kid","value"} */
	K_ERROR,      /* 4xx/5xx other than 401: error body parse */
	K_CHALLENGE,  /* 401: WWW-Authenticate parse */
	K_OOS_BUNDLE, /* out of scope but a key bundle: delete, deleted key, recover, restore */
	K_OOS_LIST,   /* out of scope but a list page: GET /deletedkeys */
	K_OOS,        /* out of scope, other shape: backup, rotation policy, rng, release,
	                 verify (done locally), purge (204) */
	K_UNCLASSIFIED,
	K_COUNT,
};

static const char *const kind_names[K_COUNT] = {
        "key bundle",
        "list page",
        "operation result",
        "error body",
        "401 challenge",
        "out-of-scope op, key bundle",
        "out-of-scope op, list page",
        "out-of-scope op, not parsed",
        "UNCLASSIFIED",
};

typedef struct tally {
	unsigned seen[K_COUNT];
	unsigned parsed[K_COUNT];
	unsigned files;
	unsigned failures;
	char oos_ops[1024]; /* the out-of-scope operations met, for the summary */
} tally;

static void note_oos(tally *t, const char *what)
{
	if (strstr(t->oos_ops, what))
		return;
	if (strlen(t->oos_ops) + strlen(what) + 3 < sizeof(t->oos_ops)) {
		if (t->oos_ops[0])
			strcat(t->oos_ops, ", ");
		strcat(t->oos_ops, what);
	}
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* The non-empty segments of url's path (its query dropped), lowercased
 * copies in segs[0..*n). Returns 0, or -1 if url does not parse. */
static int path_segments(const char *url, char segs[8][128], size_t *n)
{
	CURLU *u = curl_url();
	char *path = NULL, *p;
	int rc = -1;

	*n = 0;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
		for (p = strtok(path, "/"); p && *n < 8; p = strtok(NULL, "/"))
			snprintf(segs[(*n)++], 128, "%s", p);
		rc = 0;
	}
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

static int is_key_op(const char *seg)
{
	static const char *const ops[] = {"wrapkey", "unwrapkey", "encrypt", "decrypt", "sign"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcasecmp(seg, ops[i]) == 0)
			return 1;
	}
	return 0;
}

static enum kind classify(const char *method, long status, char segs[8][128], size_t n, tally *t)
{
	const char *last = n ? segs[n - 1] : "";
	int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

	if (status == 401)
		return K_CHALLENGE;
	if (status >= 400)
		return K_ERROR;
	if (n >= 1 && strcmp(segs[0], "rng") == 0)
		return note_oos(t, "rng"), K_OOS;
	if (n >= 1 && strcmp(segs[0], "deletedkeys") == 0) {
		if (status == 204)
			return note_oos(t, "purge deleted key"), K_OOS;
		note_oos(t, "deleted keys");
		if (get && n == 1)
			return K_OOS_LIST;
		if ((get && n == 2) || (post && n == 3 && strcmp(last, "recover") == 0))
			return K_OOS_BUNDLE;
		return K_UNCLASSIFIED;
	}
	if (n < 1 || strcmp(segs[0], "keys") != 0)
		return K_UNCLASSIFIED;
	if (get && n == 1)
		return K_LIST;
	if (n < 2)
		return K_UNCLASSIFIED;
	if (strcmp(segs[1], "restore") == 0 && post && n == 2)
		return note_oos(t, "restore"), K_OOS_BUNDLE;
	if (strcmp(method, "DELETE") == 0 && n == 2)
		return note_oos(t, "delete key"), K_OOS_BUNDLE;
	if (get && n == 3 && strcmp(last, "versions") == 0)
		return K_LIST;
	if (strcmp(last, "rotationpolicy") == 0 && n == 3)
		return note_oos(t, "rotation policy"), K_OOS;
	if (post && strcmp(last, "backup") == 0 && n == 3)
		return note_oos(t, "backup"), K_OOS;
	if (post && strcmp(last, "release") == 0)
		return note_oos(t, "release"), K_OOS;
	if (post && strcmp(last, "verify") == 0 && (n == 3 || n == 4))
		return note_oos(t, "verify (done locally)"), K_OOS;
	if (post && (n == 3 || n == 4) && is_key_op(last))
		return K_OP_RESULT;
	if (post && n == 3 && (strcmp(last, "create") == 0 || strcmp(last, "rotate") == 0))
		return K_BUNDLE;
	if (strcmp(method, "PUT") == 0 && n == 2)
		return K_BUNDLE; /* import */
	if ((get || strcmp(method, "PATCH") == 0) && (n == 2 || n == 3))
		return K_BUNDLE; /* get or update, latest or one version */
	return K_UNCLASSIFIED;
}

static const char *member(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (!v)
		v = cJSON_GetObjectItemCaseSensitive(obj, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *header(const cJSON *resp, const char *name)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, resp)
	{
		if (h->string && strcasecmp(h->string, name) == 0 && cJSON_IsString(h))
			return h->valuestring;
	}
	return NULL;
}

/* Checks one response; returns NULL if it parsed as its kind should, else
 * why not (in err or a constant). */
static const char *check(enum kind k, long status, const char *body, const cJSON *resp,
                         char segs[8][128], size_t n, azkv_err *err)
{
	azkv_key_item *items = NULL;
	size_t n_items = 0;
	char *next = NULL, *kid = NULL, *name = NULL, *version = NULL;
	const char *why = NULL;
	azkv_bytes value = {0};
	cJSON *root = NULL;
	azkv_key key;
	azkv_challenge ch;
	EVP_PKEY *pkey = NULL;

	switch (k) {
	case K_BUNDLE:
	case K_OOS_BUNDLE:
		root = cJSON_Parse(body);
		if (azkv_key_parse(root, &key, err) != AZKV_OK)
			return err->message;
		if (!key.version)
			why = "key bundle kid has no version";
		else if (k == K_BUNDLE && strcasecmp(key.name, segs[1]) != 0)
			why = "key name differs from the URL's";
		else if (key.jwk.kty != AZKV_KTY_OCT && azkv_jwk_to_pkey(&key.jwk, &pkey, err))
			why = err->message;
		EVP_PKEY_free(pkey);
		azkv_key_free(&key);
		cJSON_Delete(root);
		return why;
	case K_LIST:
	case K_OOS_LIST:
		if (azkv_key_list_page_parse(body, &items, &n_items, &next, err) != AZKV_OK)
			return err->message;
		for (size_t i = 0; i < n_items && !why; i++) {
			/* /versions lists name versions; /keys and /deletedkeys do not. */
			if ((n == 3) != (items[i].version != NULL))
				why = "list item version does not fit the list";
		}
		if (next && !strstr(next, n == 3 ? "/versions" : "keys"))
			why = "nextLink does not continue the list";
		azkv_key_items_free(items, n_items);
		free(next);
		return why;
	case K_OP_RESULT:
		if (azkv_kv_op_result_parse(body, &kid, &value, err) != AZKV_OK)
			return err->message;
		if (value.len == 0)
			why = "empty value";
		else if (!kid)
			why = "no kid";
		else if (azkv_kid_split(kid, &name, &version, err) != AZKV_OK)
			why = err->message;
		else if (!version)
			why = "result kid has no version";
		azkv_bytes_free(&value);
		free(kid);
		free(name);
		free(version);
		return why;
	case K_ERROR:
		azkv_kv_error_from_response(status, body, "recorded", err);
		if (!err->code[0])
			return err->message;
		if (err->rc == AZKV_OK || err->http_status != status)
			return "error status not kept";
		if (status == 404 && err->rc != AZKV_ERR_NOT_FOUND)
			return "404 is not NOT_FOUND";
		if (status == 409 && err->rc != AZKV_ERR_CONFLICT)
			return "409 is not CONFLICT";
		return NULL;
	case K_CHALLENGE:
		if (azkv_challenge_parse(header(resp, "www-authenticate"), &ch, err) != AZKV_OK)
			return err->message;
		if (!ch.tenant_id || !ch.scope ||
		    strcmp(ch.scope, "https://vault.azure.net/.default"))
			why = "challenge without tenant or with an unexpected scope";
		azkv_challenge_free(&ch);
		/* A 2022-style body comes with it: it must give a code too. */
		if (!why && body[0]) {
			azkv_kv_error_from_response(status, body, "recorded", err);
			if (err->rc != AZKV_ERR_AUTH || !err->code[0])
				why = "401 body does not give an Unauthorized code";
		}
		return why;
	default:
		return NULL;
	}
}

static void replay_file(const char *path, tally *t)
{
	char *text = read_text(path);
	cJSON *doc = cJSON_Parse(text);
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(doc, "networkCallRecords");
	const cJSON *call;
	size_t idx = 0;

	if (!cJSON_IsArray(calls))
		fail_msg("%s: no networkCallRecords", path);
	t->files++;
	cJSON_ArrayForEach(call, calls)
	{
		const cJSON *resp = cJSON_GetObjectItemCaseSensitive(call, "Response");
		const char *method = member(call, "Method", "method");
		const char *url = member(call, "Url", "Uri");
		const char *st = member(resp, "STATUS_CODE", "StatusCode");
		const char *body = member(resp, "BODY", "Body");
		char segs[8][128];
		size_t n;
		long status;
		enum kind k;
		const char *why;
		azkv_err err;

		idx++;
		if (!method || !url || !st || path_segments(url, segs, &n) != 0) {
			print_error("%s call %zu: no method, URL or status\n", path, idx);
			t->failures++;
			continue;
		}
		status = strtol(st, NULL, 10);
		k = classify(method, status, segs, n, t);
		t->seen[k]++;
		if (k == K_UNCLASSIFIED) {
			print_error("%s call %zu: unclassified %s %s -> %ld\n", path, idx, method,
			            url, status);
			continue;
		}
		if (k == K_OOS)
			continue;
		azkv_err_clear(&err);
		why = check(k, status, body ? body : "", resp, segs, n, &err);
		if (why) {
			print_error("%s call %zu (%s %s -> %ld, %s): %s\n", path, idx, method, url,
			            status, kind_names[k], why);
			t->failures++;
			continue;
		}
		t->parsed[k]++;
	}
	cJSON_Delete(doc);
	free(text);
}

static int json_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 5 && strcmp(d->d_name + len - 5, ".json") == 0;
}

static void replay_dir(const char *sub, tally *t)
{
	char dir[1024], path[2048];
	struct dirent **list;
	int n;

	memset(t, 0, sizeof(*t));
	snprintf(dir, sizeof(dir), "%s/%s", RECORDINGS_DIR, sub);
	n = scandir(dir, &list, json_file, alphasort);
	if (n <= 0)
		fail_msg("no recordings in %s", dir);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		replay_file(path, t);
		free(list[i]);
	}
	free(list);

	print_message("%s: %u files\n", sub, t->files);
	for (int k = 0; k < K_COUNT; k++) {
		if (t->seen[k])
			print_message("  %-30s %4u calls, %4u parsed\n", kind_names[k], t->seen[k],
			              t->parsed[k]);
	}
	print_message("  out-of-scope operations: %s\n", t->oos_ops[0] ? t->oos_ops : "none");
}

/* Every parseable response parsed; nothing unclassified; and the kinds
 * expected of this file set were all met. */
static void assert_tally(const tally *t, const enum kind *expected, size_t n_expected)
{
	assert_int_equal(t->seen[K_UNCLASSIFIED], 0);
	assert_int_equal(t->failures, 0);
	for (int k = 0; k < K_COUNT; k++) {
		if (k != K_OOS && k != K_UNCLASSIFIED)
			assert_int_equal(t->parsed[k], t->seen[k]);
	}
	for (size_t i = 0; i < n_expected; i++) {
		if (t->parsed[expected[i]] == 0)
			fail_msg("no %s was parsed", kind_names[expected[i]]);
	}
}

static void every_2018_response_parses(void **state)
{
	static const enum kind expected[] = {K_BUNDLE,    K_LIST,       K_OP_RESULT, K_ERROR,
	                                     K_CHALLENGE, K_OOS_BUNDLE, K_OOS_LIST};
	tally t;

	(void)state;
	replay_dir("keyvault-keys-2018", &t);
	assert_int_equal(t.files, 10);
	assert_tally(&t, expected, sizeof(expected) / sizeof(expected[0]));
}

static void every_2022_response_parses(void **state)
{
	/* These recordings hold no 401. */
	static const enum kind expected[] = {K_BUNDLE, K_LIST,       K_OP_RESULT,
	                                     K_ERROR,  K_OOS_BUNDLE, K_OOS_LIST};
	tally t;

	(void)state;
	replay_dir("keyvault-keys-2022", &t);
	assert_int_equal(t.files, 108);
	assert_tally(&t, expected, sizeof(expected) / sizeof(expected[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(every_2018_response_parses),
	        cmocka_unit_test(every_2022_response_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
