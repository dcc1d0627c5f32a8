/* The JSON configuration shared by the module and the tools.
 *
 * {
 *   "vaults": [ { "url": "https://demo.vault.azure.net", "label": "demo",
 *                 "keys": ["cmk"],                 // optional: no "list" needed
 *                 "certificates": {"cmk": "/path/cmk.pem"} } ],  // optional
 *   "credential": {
 *     "type": "client_secret",              // or "environment"
 *     "tenant_id": "...", "client_id": "...",
 *     "client_secret": "..." | "client_secret_file": "/path",
 *     "authority_host": "https://login.microsoftonline.com"
 *   },
 *   "http": { "ca_file": "/path/ca.pem", "connect_to": "127.0.0.1:8443",
 *             "connect_timeout_ms": 5000, "timeout_ms": 30000,
 *             "max_retries": 3 },
 *   "log": { "level": "warn", "file": "/path" },
 *   "wrap": "local" | "vault",
 *   "api_version": "7.4",
 *   "arm": { "endpoint": "https://management.azure.com",   // azkv-cmk only
 *            "subscription_id": "..." }
 * }
 *
 * Path: $AZKV_PKCS11_CONFIG, else SYSCONFDIR/azkv-pkcs11/config.json.
 * Unknown top-level keys are an error (typos must not pass silently). */
#ifndef AZKV_CONFIG_H
#define AZKV_CONFIG_H

#include <stddef.h>

#include "status.h"

typedef enum azkv_wrap_mode {
	AZKV_WRAP_LOCAL = 0, /* C_WrapKey with the cached public key */
	AZKV_WRAP_VAULT,     /* C_WrapKey through the vault's wrapkey */
} azkv_wrap_mode;

typedef enum azkv_credential_type {
	AZKV_CRED_CLIENT_SECRET = 0,
	AZKV_CRED_ENVIRONMENT, /* AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET */
} azkv_credential_type;

typedef struct azkv_vault_config {
	char *url;   /* "https://NAME.vault.azure.net", no trailing '/' */
	char *label; /* token label; defaults to NAME (first host label) */
	char **keys; /* key names to expose without listing; NULL: list them all */
	size_t n_keys;
	/* Certificates shown beside keys: cert_keys[i] ("name" or
	 * "name/version") has the PEM certificate in cert_files[i]. */
	char **cert_keys;
	char **cert_files;
	size_t n_certs;
} azkv_vault_config;

typedef struct azkv_credential_config {
	azkv_credential_type type;
	char *tenant_id;
	char *client_id;
	char *client_secret;  /* secret: wiped on free, never logged */
	char *authority_host; /* default "https://login.microsoftonline.com" */
} azkv_credential_config;

typedef struct azkv_http_config {
	char *ca_file;           /* extra trust anchors (the emulator's test CA) */
	char *connect_to;        /* "HOST:PORT": send every request there */
	long connect_timeout_ms; /* default 5000 */
	long timeout_ms;         /* default 30000 */
	int max_retries;         /* 429/5xx retries, default 3 */
} azkv_http_config;

typedef struct azkv_config {
	azkv_vault_config *vaults;
	size_t n_vaults;
	azkv_credential_config credential;
	azkv_http_config http;
	char *log_level; /* NULL when not set */
	char *log_file;  /* NULL when not set */
	azkv_wrap_mode wrap;
	char *api_version;         /* default "7.4" */
	char *arm_endpoint;        /* NULL: https://management.azure.com */
	char *arm_subscription_id; /* NULL when not set */
	char *source;              /* the path it was read from, for messages */
} azkv_config;

/* $AZKV_PKCS11_CONFIG if set and non-empty, else the system default. */
const char *azkv_config_path(void);

/* Reads and parses path. On error, err->message names the file and the
 * offending key or the JSON position. *out is owned by the caller. */
azkv_rc azkv_config_load(const char *path, azkv_config **out, azkv_err *err);

/* Parses a JSON text; origin names it in messages. */
azkv_rc azkv_config_parse(const char *json, const char *origin, azkv_config **out, azkv_err *err);

/* NULL-safe; wipes the client secret. */
void azkv_config_free(azkv_config *cfg);

#endif
