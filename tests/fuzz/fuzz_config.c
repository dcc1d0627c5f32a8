/* Feeds the configuration file's text to azkv_config_parse, the parser
 * C_Initialize and azkv-cmk use (azkv_config_load reads the file and
 * calls the same code). Paths the text names (client_secret_file and
 * certificate_password_file) are read as they would be. */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The environment's overrides would hide the file's values. */
	unsetenv("AZKV_PKCS11_CA_FILE");
	unsetenv("AZKV_PKCS11_CONNECT_TO");
	fuzz_quiet_log();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	azkv_config *cfg = NULL;
	azkv_err err;

	if (azkv_config_parse(text, "fuzz", &cfg, &err) == AZKV_OK)
		azkv_config_free(cfg);
	free(text);
	return 0;
}
