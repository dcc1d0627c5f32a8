/* Feeds a Key Vault response body to each of its handlers: a page of a key
 * or version listing (azkv_key_list_page_parse, twice, so that the second
 * page is appended to the first), a key operation result
 * (azkv_kv_op_result_parse: sign, encrypt, decrypt, wrapkey, unwrapkey)
 * and an error body (azkv_kv_error_from_response, with an HTTP status
 * chosen by the input's length). */
#include "fuzz.h"
#include "keyvault.h"

FUZZ_QUIET_INITIALIZE

static void list_page(const char *text)
{
	azkv_key_item *items = NULL;
	size_t n = 0;
	char *next = NULL;
	azkv_err err;

	for (int page = 0; page < 2; page++) {
		if (azkv_key_list_page_parse(text, &items, &n, &next, &err) != AZKV_OK) {
			azkv_debug("%s", err.message);
			break;
		}
		for (size_t i = 0; i < n; i++)
			azkv_debug("item %s: %s/%s", items[i].kid, items[i].name,
			           items[i].version ? items[i].version : "(none)");
		free(next);
		next = NULL;
	}
	free(next);
	azkv_key_items_free(items, n);
}

static void op_result(const char *text)
{
	azkv_bytes out;
	char *kid = NULL;
	azkv_err err;

	if (azkv_kv_op_result_parse(text, &kid, &out, &err) == AZKV_OK) {
		azkv_debug("result of %s: %zu bytes", kid ? kid : "(no kid)", out.len);
		azkv_bytes_free(&out);
		free(kid);
	}
	if (azkv_kv_op_result_parse(text, NULL, &out, &err) == AZKV_OK)
		azkv_bytes_free(&out);
}

static void error_body(const char *text, size_t size)
{
	static const long statuses[] = {400, 401, 403, 404, 409, 429, 500, 503, 302, 200};
	azkv_err err;
	azkv_rc rc;

	rc = azkv_kv_error_from_response(statuses[size % (sizeof(statuses) / sizeof(*statuses))],
	                                 text, size & 1 ? NULL : "fuzz", &err);
	azkv_debug("%s (%s, code %s, inner %s)", err.message, azkv_rc_name(rc), err.code,
	           err.inner_code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	list_page(text);
	op_result(text);
	error_body(text, size);
	free(text);
	return 0;
}
