/* azkv-cmk --output forms (tools/cmk/output_form.c): table and tsv as az
 * writes them for a list of objects, a single object and bare values;
 * YAML's quoting of the strings that would read back as something else;
 * JSON's escapes of what is not printable ASCII, and its colours. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output_form.h"

/* The text form writes for the JSON document json; rc its return. */
static char *render(cmk_output form, const char *json, int colour, int *rc)
{
	cJSON *doc = cJSON_Parse(json);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!doc)
		fail_msg("not JSON: %s", json);
	assert_non_null(f);
	*rc = cmk_output_write(f, form, doc, colour);
	fclose(f);
	cJSON_Delete(doc);
	return text;
}

#define assert_renders(form, json, want)                                                           \
	do {                                                                                       \
		int rc_;                                                                           \
		char *got_ = render(form, json, 0, &rc_);                                          \
		assert_int_equal(rc_, 0);                                                          \
		if (strcmp(got_, want) != 0)                                                       \
			fail_msg("%s:\n--- got\n%s--- want\n%s---", json, got_, want);             \
		free(got_);                                                                        \
	} while (0)

static const char rules[] =
        "[{\"id\": \"/x/1\", \"name\": \"soft-delete\", \"status\": \"pass\", \"days\": 90,"
        "  \"type\": \"rule\", \"etag\": \"e\", \"fix\": null, \"tags\": [1], \"more\": {}},"
        " {\"name\": \"key.size\", \"status\": \"fail\", \"days\": 7.5, \"enabled\": false,"
        "  \"fix\": \"use 2048\"}]";

static void table_of_a_list(void **state)
{
	(void)state;
	/* id, type, etag, null, arrays and objects are no columns; keys
	 * keep their order, the first letter capitalised; a row without a
	 * key leaves its cell empty. */
	assert_renders(CMK_OUTPUT_TABLE, rules,
	               "Name         Status  Days  Enabled  Fix\n"
	               "-----------  ------  ----  -------  --------\n"
	               "soft-delete  pass    90\n"
	               "key.size     fail    7.5   False    use 2048\n");
	assert_renders(CMK_OUTPUT_TABLE, "[\"a\", \"bé\"]", "Result\n------\na\nbé\n");
	assert_renders(CMK_OUTPUT_TABLE, "[[1, \"x\"], [2]]",
	               "Column1  Column2\n-------  -------\n1        x\n2\n");
	assert_renders(CMK_OUTPUT_TABLE, "[]", "");
}

static void table_of_an_object(void **state)
{
	(void)state;
	assert_renders(
	        CMK_OUTPUT_TABLE,
	        "{\"command\": \"check\", \"result\": \"fail\", \"rules\": [], \"exitCode\": 1}",
	        "Command  Result  ExitCode\n-------  ------  --------\ncheck    fail    1\n");
	assert_renders(CMK_OUTPUT_TABLE, "\"labkv\"", "Result\n------\nlabkv\n");
	/* A control character from Azure is shown escaped: one row, one line. */
	assert_renders(CMK_OUTPUT_TABLE, "{\"m\": \"a\\nb\\u001b[31m\"}",
	               "M\n------------\na\\nb\\x1b[31m\n");
}

static void table_without_a_column(void **state)
{
	int rc;
	char *text;

	(void)state;
	text = render(CMK_OUTPUT_TABLE, "{\"rules\": [1], \"vault\": {\"a\": 1}, \"id\": \"x\"}", 0,
	              &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(text, "");
	free(text);
}

static void tsv(void **state)
{
	(void)state;
	/* Every value of a row, in order: an array as its length, an object
	 * empty, booleans and null as az (Python) writes them. */
	assert_renders(CMK_OUTPUT_TSV, rules,
	               "/x/1\tsoft-delete\tpass\t90\trule\te\tNone\t1\t\n"
	               "key.size\tfail\t7.5\tFalse\tuse 2048\n");
	assert_renders(CMK_OUTPUT_TSV, "{\"a\": \"x\\ty\", \"b\": true}", "x\\ty\tTrue\n");
	assert_renders(CMK_OUTPUT_TSV, "[\"a\", 2, true, null]", "a\n2\ntrue\nNone\n");
	assert_renders(CMK_OUTPUT_TSV, "false", "false\n");
	assert_renders(CMK_OUTPUT_TSV, "[]", "");
}

static void yaml(void **state)
{
	(void)state;
	assert_renders(CMK_OUTPUT_YAML,
	               "{\"command\": \"check\", \"exitCode\": 1, \"ok\": true, \"none\": null,"
	               " \"rules\": [{\"id\": \"a\", \"n\": 2.5}], \"empty\": [], \"obj\": {}}",
	               "command: check\n"
	               "exitCode: 1\n"
	               "ok: true\n"
	               "none: null\n"
	               "rules:\n"
	               "- id: a\n"
	               "  n: 2.5\n"
	               "empty: []\n"
	               "obj: {}\n");
	/* Strings that would read back as a boolean, null, a number or a
	 * date are quoted; so is what YAML's syntax needs; non-ASCII and
	 * control characters (but line breaks) are escaped in double quotes. */
	assert_renders(
	        CMK_OUTPUT_YAML,
	        "[\"true\", \"No\", \"null\", \"~\", \"\", \"123\", \"0x1F\", \"1e3\","
	        " \"2026-12-06\", \".5\", \"-\", \"a: b\", \"#c\", \"x #y\", \"@z\","
	        " \"é\", \"a\\nb\", \"plain text\", \"P6M\", \"\\u001b[31m\", \"x\\u202ey\"]",
	        "- 'true'\n"
	        "- 'No'\n"
	        "- 'null'\n"
	        "- '~'\n"
	        "- ''\n"
	        "- '123'\n"
	        "- '0x1F'\n"
	        "- '1e3'\n"
	        "- '2026-12-06'\n"
	        "- '.5'\n"
	        "- '-'\n"
	        "- 'a: b'\n"
	        "- '#c'\n"
	        "- 'x #y'\n"
	        "- '@z'\n"
	        "- \"\\xE9\"\n"
	        "- 'a\n\n  b'\n" /* a line break, in YAML's single quotes */
	        "- plain text\n"
	        "- P6M\n"
	        "- \"\\e[31m\"\n"
	        "- \"x\\u202Ey\"\n");
	assert_renders(CMK_OUTPUT_YAML, "{\"yes\": 1}", "'yes': 1\n");
}

/* YAML 1.1 reads 1e+20, inf and nan as strings: a float's mantissa has
 * a '.', the infinities and NaN are .inf, -.inf and .nan. */
static void yaml_numbers(void **state)
{
	cJSON *doc = cJSON_CreateArray();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_renders(CMK_OUTPUT_YAML, "[1e20, -3e-30, 2.5e-30, 1e400, -1e400, 12, 0.5]",
	               "- 1.0e+20\n- -3.0e-30\n- 2.5e-30\n- .inf\n- -.inf\n- 12\n- 0.5\n");
	assert_non_null(f);
	cJSON_AddItemToArray(doc, cJSON_CreateNumber(NAN));
	assert_int_equal(cmk_output_write(f, CMK_OUTPUT_YAML, doc, 0), 0);
	fclose(f);
	assert_string_equal(text, "- .nan\n");
	free(text);
	cJSON_Delete(doc);
}

static void json(void **state)
{
	(void)state;
	/* Above U+FFFF: a pair of surrogates; C1 and bidi controls escaped. */
	assert_renders(CMK_OUTPUT_JSON, "[\"\\ud83d\\ude00\", \"\\u202e\\u0085é\"]",
	               "[\"\\ud83d\\ude00\", \"\\u202e\\u0085\\u00e9\"]\n");
	assert_renders(CMK_OUTPUT_JSON, "{\"a\": 1}", "{\n\t\"a\":\t1\n}\n");
	/* jsonc without colour is json. */
	assert_renders(CMK_OUTPUT_JSONC, "{\"a\": 1}", "{\n\t\"a\":\t1\n}\n");
	assert_renders(CMK_OUTPUT_NONE, "{\"a\": 1}", "");
}

static void jsonc(void **state)
{
	int rc;
	char *text;

	(void)state;
	text = render(CMK_OUTPUT_JSONC, "{\"k\": \"v \\\" w\", \"n\": -1.5, \"b\": null}", 1, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(text, "{\n"
	                          "\t\033[94m\"k\"\033[0m:\t\033[32m\"v \\\" w\"\033[0m,\n"
	                          "\t\033[94m\"n\"\033[0m:\t\033[36m-1.5\033[0m,\n"
	                          "\t\033[94m\"b\"\033[0m:\t\033[35mnull\033[0m\n"
	                          "}\n");
	free(text);
}

static void forms_by_name(void **state)
{
	cmk_output form;

	(void)state;
	assert_int_equal(cmk_output_parse("tsv", &form), 0);
	assert_int_equal(form, CMK_OUTPUT_TSV);
	assert_int_equal(cmk_output_parse("yamlc", &form), -1);
	assert_int_equal(cmk_output_parse("", &form), -1);
	/* az takes any case (its choices are lowered). */
	assert_int_equal(cmk_output_parse("JSON", &form), 0);
	assert_int_equal(form, CMK_OUTPUT_JSON);
	/* text, the default, can be named (a later -o text undoes --json). */
	assert_int_equal(cmk_output_parse("text", &form), 0);
	assert_int_equal(form, CMK_OUTPUT_TEXT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(table_of_a_list),
	        cmocka_unit_test(table_of_an_object),
	        cmocka_unit_test(table_without_a_column),
	        cmocka_unit_test(tsv),
	        cmocka_unit_test(yaml),
	        cmocka_unit_test(yaml_numbers),
	        cmocka_unit_test(json),
	        cmocka_unit_test(jsonc),
	        cmocka_unit_test(forms_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
