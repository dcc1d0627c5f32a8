/* The JSON configuration shared by the module and the tools.
 *
 * {
 *   "vaults": [ { "url": "https://demo.vault.azure.net", "label": "demo",
 *                 "keys": ["cmk"],                 // optional: no "list" needed
 *                 "certificates": {"cmk": "/path/cmk.pem"},      // optional
 *                 "allow_rsa_pkcs1_v15_decrypt": false,           // optional
 *                 "allow_key_creation": false,                    // optional
 *                 "pin": "..." | "pin_file": "/path" } ],          // optional
 *   "cloud": "AzureCloud",                // or AzureChinaCloud, AzureUSGovernment
 *   "credential": {                       // absent: {"type": "default"}
 *     "type": "client_secret",            // see cred_keys in config.c for
 *     "tenant_id": "...", "client_id": "...",   // every type and its keys
 *     "client_secret": "..." | "client_secret_file": "/path",
 *     "authority_host": "https://login.microsoftonline.com"
 *   },
 *   "http": { "ca_file": "/path/ca.pem", "connect_to": "127.0.0.1:8443",
 *             "connect_timeout_ms": 5000, "timeout_ms": 30000 },
 *   "retry": { "max_retries": 3, "base_delay_ms": 800, "max_delay_ms": 30000,
 *              "deadline_ms": 120000 },
 *   "log": { "level": "warn", "file": "/path" },
 *   "wrap": "local" | "vault",
 *   "api_version": "7.4",
 *   "arm": { "endpoint": "https://management.azure.com",   // azkv-cmk only
 *            "subscription_id": "..." }
 * }
 *
 * Path: $AZKV_PKCS11_CONFIG, else SYSCONFDIR/azkv-pkcs11/config.json.
 * Unknown keys are an error (typos must not pass silently).
 * AZKV_PKCS11_CA_FILE and AZKV_PKCS11_CONNECT_TO override http.ca_file
 * and http.connect_to (as AZKV_PKCS11_LOG_* override the log settings). */
#ifndef AZKV_CONFIG_H
#define AZKV_CONFIG_H

#include <stddef.h>

#include "cloud.h"
#include "status.h"

typedef enum azkv_wrap_mode {
	AZKV_WRAP_LOCAL = 0, /* C_WrapKey with the cached public key */
	AZKV_WRAP_VAULT,     /* C_WrapKey through the vault's wrapkey */
} azkv_wrap_mode;

typedef enum azkv_credential_type {
	AZKV_CRED_CLIENT_SECRET = 0,
	AZKV_CRED_ENVIRONMENT, /* AZURE_TENANT_ID, AZURE_CLIENT_ID,
	                          AZURE_CLIENT_SECRET/_CERTIFICATE_PATH */
	AZKV_CRED_CLIENT_CERTIFICATE,
	AZKV_CRED_MANAGED_IDENTITY,  /* IMDS, App Service, Azure Arc */
	AZKV_CRED_WORKLOAD_IDENTITY, /* AZURE_FEDERATED_TOKEN_FILE */
	AZKV_CRED_AZURE_CLI,         /* az account get-access-token */
	AZKV_CRED_DEFAULT,           /* DefaultAzureCredential's order of the above */
	AZKV_CRED_TYPE_COUNT
} azkv_credential_type;

/* The credential.type names, indexed by azkv_credential_type. */
const char *azkv_credential_type_name(azkv_credential_type type);

/* How a client certificate signs its assertion. */
typedef enum azkv_assertion_alg {
	AZKV_ASSERTION_RS256 = 0, /* RSASSA-PKCS1-v1_5, header x5t (SHA-1 thumbprint) */
	AZKV_ASSERTION_PS256,     /* RSASSA-PSS, header x5t#S256 (SHA-256 thumbprint) */
} azkv_assertion_alg;

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
	/* "allow_rsa_pkcs1_v15_decrypt": true lets CKM_RSA_PKCS (Key Vault's
	 * RSA1_5) decrypt and unwrap with this vault's keys. Off by default:
	 * each such call asks the vault to check PKCS#1 v1.5 padding, and the
	 * answer is a padding oracle (Bleichenbacher) to whoever can call. */
	int allow_rsa_pkcs1_v15_decrypt;
	/* "pin" or "pin_file" (its first line): the user PIN of the vault's
	 * token, which then needs a login before its private objects show
	 * (pkcs11/login.h). Secret: wiped on free, never logged. NULL: no
	 * PIN, any user PIN logs in. */
	char *pin;
	/* "allow_key_creation": true lets C_GenerateKeyPair create RSA and EC
	 * keys in this vault (POST /keys/{name}/create). Off by default: a
	 * module that only reads keys should not be able to add any. */
	int allow_key_creation;
} azkv_vault_config;

/* The longest PIN, in bytes: C_GetTokenInfo's ulMaxPinLen. */
#define AZKV_PIN_MAX 256

/* The name of that key, for messages that tell how to turn it on. */
#define AZKV_CONFIG_RSA_PKCS1_V15_DECRYPT_KEY "allow_rsa_pkcs1_v15_decrypt"
#define AZKV_CONFIG_KEY_CREATION_KEY          "allow_key_creation"
/* A member of this name is a comment, in any object (config.c). */
#define AZKV_CONFIG_COMMENT_KEY "//"

/* Which key each type takes is in config.c's cred_keys table; values not
 * given are NULL / 0 (the credential then reads the environment). */
typedef struct azkv_credential_config {
	azkv_credential_type type;
	char *tenant_id;
	char *client_id;      /* an app, or a user-assigned managed identity */
	char *client_secret;  /* secret: wiped on free, never logged */
	char *authority_host; /* NULL: the cloud's (or AZURE_AUTHORITY_HOST) */
	/* client_certificate */
	char *certificate_file;     /* PEM (key and certificate) or PKCS#12 */
	char *certificate_password; /* secret, from certificate_password_file */
	int send_certificate_chain; /* x5c: subject name + issuer auth */
	azkv_assertion_alg assertion_alg;
	/* managed_identity (user-assigned: client_id, object_id or resource_id) */
	char *object_id;
	char *resource_id;
	char *imds_endpoint;     /* NULL: AZURE_POD_IDENTITY_AUTHORITY_HOST, else IMDS */
	char *identity_endpoint; /* NULL: IDENTITY_ENDPOINT */
	char *arc_key_dir;       /* NULL: /var/opt/azcmagent/tokens */
	/* workload_identity */
	char *token_file; /* NULL: AZURE_FEDERATED_TOKEN_FILE */
	/* azure_cli */
	long process_timeout_ms; /* 0: 10 s */
	/* additionally_allowed_tenants: tenants other than tenant_id that a
	 * vault's 401 challenge may name ("*": any), as the Azure SDKs' option */
	char **allowed_tenants;
	size_t n_allowed_tenants;
} azkv_credential_config;

/* "retry": how the Key Vault and ARM clients retry 429, transient 5xx and
 * connection failures (http.h has the schedule). */
typedef struct azkv_retry_policy {
	int max_retries;    /* retries after the first attempt; default 3 */
	long base_delay_ms; /* the first backoff's upper bound, doubling; default 800 */
	long max_delay_ms;  /* the cap of any one delay, Retry-After included; default 30000 */
	long deadline_ms;   /* one operation, retries included; default 120000 */
} azkv_retry_policy;

typedef struct azkv_http_config {
	char *ca_file;           /* extra trust anchors (the emulator's test CA) */
	char *connect_to;        /* "HOST:PORT": send every request there */
	long connect_timeout_ms; /* default 5000 */
	long timeout_ms;         /* default 30000 */
	azkv_retry_policy retry; /* "retry"; http.max_retries is retry.max_retries */
} azkv_http_config;

typedef struct azkv_config {
	azkv_vault_config *vaults;
	size_t n_vaults;
	const azkv_cloud *cloud; /* "cloud", else the vaults' cloud, else the public cloud */
	azkv_credential_config credential;
	azkv_http_config http;
	char *log_level;  /* NULL when not set */
	char *log_file;   /* NULL when not set */
	char *log_format; /* "text" or "json"; NULL when not set */
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

/* 1 when azkv_config_path() is the system default (AZKV_PKCS11_CONFIG is
 * not set). */
int azkv_config_path_is_default(void);

/* The module's configuration: as azkv_config_load, except that when path is
 * the system default and no file is there (a module installed and
 * registered with p11-kit but not yet configured), it is the default
 * configuration with no vaults and *absent is 1: no slots, so that
 * programs loading every registered module are not disturbed. A file that
 * is there but wrong, or a path named by AZKV_PKCS11_CONFIG that is
 * missing, is still an error. */
azkv_rc azkv_config_load_module(const char *path, int path_is_default, azkv_config **out,
                                int *absent, azkv_err *err);

/* Parses a JSON text; origin names it in messages. */
azkv_rc azkv_config_parse(const char *json, const char *origin, azkv_config **out, azkv_err *err);

/* The configuration of a program run with no file (azkv-cmk): no vaults,
 * the default credential, and every other default (the environment's
 * overrides applied). */
azkv_rc azkv_config_new_default(azkv_config **out, azkv_err *err);

/* NULL-safe; wipes the secrets. */
void azkv_config_free(azkv_config *cfg);

#endif
