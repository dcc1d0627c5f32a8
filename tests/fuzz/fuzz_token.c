/* Feeds a token service's answer to each of its parsers: azkv_token_parse
 * (Entra ID's token endpoint and the managed-identity endpoints: IMDS, App
 * Service, Azure Arc), azkv_entra_error (an Entra refusal, with an HTTP
 * status chosen by the input's length), and what the Azure CLI prints
 * (azkv_cli_token_parse for az account get-access-token,
 * azkv_cli_account_parse for az account show). */
#include <cjson/cJSON.h>

#include "cred_source.h"
#include "fuzz.h"

FUZZ_QUIET_INITIALIZE

static void token_answer(const char *text)
{
	azkv_token tok;
	azkv_err err;

	if (azkv_token_parse(text, "fuzz", &tok, &err) == AZKV_OK)
		azkv_token_clear(&tok);
	else
		azkv_debug("%s", err.message);
}

static void entra_refusal(char *text, size_t size)
{
	static const long statuses[] = {400, 401, 403, 429, 500, 503};
	azkv_http_response resp = {0};
	azkv_err err;

	resp.status = statuses[size % (sizeof(statuses) / sizeof(*statuses))];
	resp.body = text;
	resp.body_len = strlen(text);
	azkv_entra_error("https://login.example", "https://vault.azure.net/.default", "tenant",
	                 size & 1 ? "s3cret" : "", &resp, &err);
	azkv_debug("%s (code %s)", err.message, err.code);
}

static void azure_cli(const char *text)
{
	cJSON *json = cJSON_Parse(text);
	char *sub, *tenant, *cloud;
	azkv_token tok;
	azkv_err err;

	if (azkv_cli_account_parse(json, &sub, &tenant, &cloud, &err) == AZKV_OK) {
		azkv_debug("subscription %s tenant %s cloud %s", sub, tenant ? tenant : "-",
		           cloud ? cloud : "-");
		free(sub);
		free(tenant);
		free(cloud);
	}
	if (azkv_cli_token_parse(json, &tok, &err) == AZKV_OK)
		azkv_token_clear(&tok);
	cJSON_Delete(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	token_answer(text);
	entra_refusal(text, size);
	azure_cli(text);
	free(text);
	return 0;
}
