/* azkv-cmk --query (tools/cmk/query.c): each form of the JMESPath subset
 * on a document shaped like check's, the results as JMESPath's
 * specification gives them, and the texts that are not queries, each
 * refused with where and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query.h"

static const char doc_text[] =
        "{\"command\": \"check\", \"result\": \"fail\", \"exitCode\": 1,"
        " \"vault\": {\"name\": \"labkv\", \"properties\": {\"softDelete\": true}},"
        " \"rules\": ["
        "  {\"id\": \"vault.soft-delete\", \"status\": \"pass\", \"n\": 1},"
        "  {\"id\": \"key.size\", \"status\": \"fail\", \"n\": 2, \"fix\": \"use 2048\"},"
        "  {\"id\": \"key.expiry\", \"status\": \"warn\", \"n\": 3}],"
        " \"nested\": [[1, 2], [3], 4],"
        " \"odd key\": \"quoted\"}";

/* The query's value on the document, as compact JSON ("null" for null). */
static char *run(const char *query)
{
	char err[512], *text;
	cJSON *doc = cJSON_Parse(doc_text), *v;
	cmk_query *q = cmk_query_compile(query, err, sizeof(err));
	int too_big = -1;

	assert_non_null(doc);
	if (!q)
		fail_msg("%s: %s", query, err);
	v = cmk_query_eval(q, doc, &too_big);
	assert_int_equal(too_big, 0);
	text = v ? cJSON_PrintUnformatted(v) : strdup("null");
	cJSON_Delete(v);
	cJSON_Delete(doc);
	cmk_query_free(q);
	return text;
}

#define assert_query(query, want)                                                                  \
	do {                                                                                       \
		char *got_ = run(query);                                                           \
		if (strcmp(got_, want) != 0)                                                       \
			fail_msg("%s: got %s, want %s", query, got_, want);                        \
		free(got_);                                                                        \
	} while (0)

static void names_and_paths(void **state)
{
	(void)state;
	assert_query("command", "\"check\"");
	assert_query("vault.name", "\"labkv\"");
	assert_query("vault.properties.softDelete", "true");
	assert_query("\"odd key\"", "\"quoted\"");
	assert_query("vault.\"name\"", "\"labkv\"");
	assert_query("missing", "null");
	assert_query("missing.deeper", "null");
	assert_query("command.name", "null");
	assert_query("@.exitCode", "1");
}

static void indexes(void **state)
{
	(void)state;
	assert_query("rules[0].id", "\"vault.soft-delete\"");
	assert_query("rules[-1].id", "\"key.expiry\"");
	assert_query("rules[3]", "null");
	assert_query("rules[-4]", "null");
	assert_query("vault[0]", "null");
}

static void projections(void **state)
{
	(void)state;
	assert_query("rules[*].id", "[\"vault.soft-delete\",\"key.size\",\"key.expiry\"]");
	assert_query("rules[].status", "[\"pass\",\"fail\",\"warn\"]");
	/* Elements whose value is null are left out of a projection. */
	assert_query("rules[*].fix", "[\"use 2048\"]");
	assert_query("nested[]", "[1,2,3,4]");
	assert_query("nested[*]", "[[1,2],[3],4]");
	assert_query("nested[*][0]", "[1,3]");
	assert_query("vault.*", "[\"labkv\",{\"softDelete\":true}]");
	assert_query("command[*]", "null");
	/* A pipe ends the projection: [0] is of the list, not each element. */
	assert_query("rules[*].id | [0]", "\"vault.soft-delete\"");
	assert_query("rules[*].id[0]", "[]");
}

static void filters(void **state)
{
	(void)state;
	assert_query("rules[?status=='fail'].id", "[\"key.size\"]");
	assert_query("rules[?status != 'pass'].id", "[\"key.size\",\"key.expiry\"]");
	assert_query("rules[?n == `2`].fix", "[\"use 2048\"]");
	assert_query("rules[?n > `1` && status != 'warn'].id", "[\"key.size\"]");
	assert_query("rules[?fix].id", "[\"key.size\"]");
	assert_query("rules[?!fix].id", "[\"vault.soft-delete\",\"key.expiry\"]");
	assert_query("rules[?status=='fail' || status=='warn'] | length_of_nothing", "null");
	assert_query("rules[?status=='none']", "[]");
	assert_query("rules[?id=='key.size'] | [0].n", "2");
}

static void multiselects(void **state)
{
	(void)state;
	assert_query("{c: command, r: result, v: vault.name}",
	             "{\"c\":\"check\",\"r\":\"fail\",\"v\":\"labkv\"}");
	assert_query("[command, exitCode, missing]", "[\"check\",1,null]");
	assert_query("rules[].{id: id, status: status}",
	             "[{\"id\":\"vault.soft-delete\",\"status\":\"pass\"},"
	             "{\"id\":\"key.size\",\"status\":\"fail\"},"
	             "{\"id\":\"key.expiry\",\"status\":\"warn\"}]");
	assert_query("rules[].[id, n]", "[[\"vault.soft-delete\",1],[\"key.size\",2],"
	                                "[\"key.expiry\",3]]");
	assert_query("vault.[name]", "[\"labkv\"]");
	assert_query("missing.{a: a}", "null");
	assert_query("`{\"a\": [1]}`", "{\"a\":[1]}");
	assert_query("'it\\'s'", "\"it's\"");
}

/* Each bad text: refused, the message naming the character (1-based) and
 * what was expected. */
static void refused(const char *query, const char *want)
{
	char err[512];
	cmk_query *q = cmk_query_compile(query, err, sizeof(err));

	if (q) {
		cmk_query_free(q);
		fail_msg("%s: compiled", query);
	}
	if (!strstr(err, want))
		fail_msg("%s: \"%s\" does not say \"%s\"", query, err, want);
}

static void bad_queries(void **state)
{
	(void)state;
	refused("", "at character 1 of \"\": expected a name");
	refused("rules[", "at character 7 of \"rules[\": expected a number or '*' after '['");
	refused("rules[0", "at character 8 of \"rules[0\": expected ']', found the end");
	refused("rules[1:2]", "at character 8 of \"rules[1:2]\": expected ']' (slices");
	refused("rules.",
	        "at character 7 of \"rules.\": expected a name, '*', '[' or '{' after '.'");
	refused("a b", "at character 3 of \"a b\": expected an operator or the end, found a name");
	refused("rules[?status='fail']", "at character 14 of \"rules[?status='fail']\": '='");
	refused("{a: b", "expected ',', found the end");
	refused("{1: b}", "at character 2 of \"{1: b}\": expected a key (a name)");
	refused("length(rules)",
	        "at character 1 of \"length(rules)\": functions are not supported");
	refused("\"unclosed", "at character 1 of \"\"unclosed\": a quote that is not closed");
	refused("`{bad json}`", "a `literal` that is not JSON");
	refused("rules[*]x", "at character 9 of \"rules[*]x\": expected an operator or the end");
	refused("rules[*]{a: b}",
	        "expected '.', '[', '|' or the end after a projection, found '{'");
	refused("a # b", "at character 3 of \"a # b\": a character that is not part of a query");
	refused("rules[?status=='x'", "expected ']', found the end");
	refused("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[a]]]]]]]]]]]]]]]]]"
	        "]]]]]]"
	        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	        "at character 65 of \"[[[[");
	assert_query("[[[[[[[[[[[[[[[[[[[[command]]]]]]]]]]]]]]]]]]]]",
	             "[[[[[[[[[[[[[[[[[[[[\"check\"]]]]]]]]]]]]]]]]]]]]");
}

/* A text of n copies of part after head; owned. */
static char *repeated(const char *head, const char *part, size_t n)
{
	size_t h = strlen(head), k = strlen(part);
	char *text = malloc(h + n * k + 1);

	assert_non_null(text);
	memcpy(text, head, h);
	for (size_t i = 0; i < n; i++)
		memcpy(text + h + i * k, part, k);
	text[h + n * k] = '\0';
	return text;
}

/* The led loop builds left-deep trees with no nesting (a[][]..., a.a...,
 * a|a|..., a||a||...): long ones are refused, not evaluated or freed by
 * recursing off the stack; short ones still work. */
static void long_queries(void **state)
{
	static const struct {
		const char *head, *part;
	} shapes[] = {{"a", "[]"}, {"a", ".a"}, {"a", "|a"}, {"a", "||a"}, {"a", "[0]"}};

	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(*shapes); i++) {
		char *text = repeated(shapes[i].head, shapes[i].part, 100000);
		char *few = repeated(shapes[i].head, shapes[i].part, 100);

		refused(text, "longer than 4096 characters");
		free(text);
		/* Under the length bound, over the parts' one. */
		text = repeated(shapes[i].head, shapes[i].part, 4000 / strlen(shapes[i].part));
		refused(text, "too many parts (more than 512)");
		free(text);
		free(run(few));
		free(few);
	}
}

/* Each stage of @|[@, @] doubles the document: 30 stages would ask for
 * 2^30 copies of it; evaluation stops at a million values, said so. */
static void doubling_queries(void **state)
{
	static const char *const stages[] = {"|[@, @]", "|{a: @, b: @}"};

	(void)state;
	for (size_t i = 0; i < sizeof(stages) / sizeof(*stages); i++) {
		char err[512], *text = repeated("@", stages[i], 30);
		cJSON *doc = cJSON_Parse(doc_text);
		cmk_query *q = cmk_query_compile(text, err, sizeof(err));
		int too_big = 0;

		if (!q)
			fail_msg("%s: %s", text, err);
		assert_null(cmk_query_eval(q, doc, &too_big));
		assert_int_equal(too_big, 1);
		cmk_query_free(q);
		free(text);
		/* Five stages: 32 copies, well within. */
		text = repeated("@", stages[i], 5);
		free(run(text));
		free(text);
		cJSON_Delete(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(names_and_paths), cmocka_unit_test(indexes),
	        cmocka_unit_test(projections),     cmocka_unit_test(filters),
	        cmocka_unit_test(multiselects),    cmocka_unit_test(bad_queries),
	        cmocka_unit_test(long_queries),    cmocka_unit_test(doubling_queries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
