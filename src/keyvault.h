/* Key Vault keys data plane client (api-version 7.4 by default). One client
 * per vault; thread-safe (it holds no per-request state but the vault's
 * challenge). As the Azure SDKs do, the first request goes without a token
 * or body; the vault's 401 challenge is checked (its resource must belong
 * to the vault's host) and kept, and a token for its scope and tenant goes
 * with every later request. 429, transient 5xx and connection failures
 * are retried by http.h's policy (Retry-After honoured, capped; a deadline
 * per operation); nothing that may have been applied is sent twice
 * unless it is safe to repeat. Error bodies {"error":{"code","message"}}
 * are copied into azkv_err. */
#ifndef AZKV_KEYVAULT_H
#define AZKV_KEYVAULT_H

#include <stdint.h>

#include "bytes.h"
#include "credential.h"
#include "http.h"
#include "jwk.h"
#include "status.h"

typedef struct azkv_kv_client azkv_kv_client;

/* A key bundle: the JWK plus its attributes. Times are Unix seconds, 0
 * when absent. */
typedef struct azkv_key {
	azkv_jwk jwk;
	char *name;    /* from the kid */
	char *version; /* from the kid */
	int enabled;
	int64_t nbf, exp, created, updated;
	int managed;
	char *recovery_level; /* or NULL */
	char *tags_json;      /* the "tags" object as compact JSON, or NULL */
} azkv_key;

/* One entry of a list: "kid" and attributes, no key material. */
typedef struct azkv_key_item {
	char *kid;
	char *name;
	char *version; /* NULL in list_keys (kid has no version there) */
	int enabled;
	int64_t nbf, exp, created, updated;
	int managed;
} azkv_key_item;

/* vault_url: "https://NAME.vault.azure.net" (no trailing '/'). No I/O.
 * The retry policy is http's (azkv_http_retry_policy); max_retries >= 0
 * overrides its count. */
azkv_rc azkv_kv_client_new(const char *vault_url, const char *api_version, int max_retries,
                           azkv_http *http, azkv_credential *cred, azkv_kv_client **out,
                           azkv_err *err);
void azkv_kv_client_free(azkv_kv_client *kv);

/* Parses a key bundle JSON object (as in GET /keys/{name}/{version}); its
 * kid must have a name and a version. */
azkv_rc azkv_key_parse(const cJSON *bundle, azkv_key *out, azkv_err *err);
void azkv_key_free(azkv_key *key);

/* Parses one page of a list response: appends its items to *items and *n and
 * returns nextLink (owned, NULL on the last page) in *next_link. */
azkv_rc azkv_key_list_page_parse(const char *json, azkv_key_item **items, size_t *n,
                                 char **next_link, azkv_err *err);
void azkv_key_items_free(azkv_key_item *items, size_t n);

/* GET /keys, following nextLink to the end. */
azkv_rc azkv_kv_list_keys(azkv_kv_client *kv, azkv_key_item **items, size_t *n, azkv_err *err);

/* GET /keys/{name}/versions, following nextLink to the end. */
azkv_rc azkv_kv_list_key_versions(azkv_kv_client *kv, const char *name, azkv_key_item **items,
                                  size_t *n, azkv_err *err);

/* GET /keys/{name}[/{version}]; version NULL or "" means the latest. The
 * bundle's kid must be on this vault's host, name this key and, when a
 * version was asked for, that version (AZKV_ERR_PROTOCOL otherwise). */
azkv_rc azkv_kv_get_key(azkv_kv_client *kv, const char *name, const char *version, azkv_key *out,
                        azkv_err *err);

/* What a new key is to be (POST /keys/{name}/create): kty "RSA",
 * "RSA-HSM", "EC" or "EC-HSM"; key_size the RSA bits (0 for EC); crv the
 * JWK curve ("P-256", ...; NULL for RSA); key_ops the AZKV_OP_* it may do
 * (0: the vault's default, every operation of its type). */
typedef struct azkv_key_create {
	const char *kty;
	unsigned key_size;
	const char *crv;
	unsigned key_ops;
} azkv_key_create;

/* The request body of spec: {"kty", "key_size" | "crv", "key_ops"}.
 * Owned by the caller; NULL on ENOMEM. azkv-cmk prints it for --dry-run. */
cJSON *azkv_key_create_body(const azkv_key_create *spec);

/* POST /keys/{name}/create: a new key, or a new version when name exists
 * (the caller checks first when it must not). Not retried once sent (a
 * second create would make a second version). out is the new version's
 * bundle, its kid checked as azkv_kv_get_key checks it. */
azkv_rc azkv_kv_create_key(azkv_kv_client *kv, const char *name, const azkv_key_create *spec,
                           azkv_key *out, azkv_err *err);

/* POST /keys/{name}/{version}/wrapkey. alg: "RSA-OAEP", "RSA-OAEP-256",
 * "RSA1_5"; with a Managed HSM oct-HSM key "A128KW", "A192KW", "A256KW",
 * "CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD" (mhsm.h). out owned by the
 * caller. */
azkv_rc azkv_kv_wrap_key(azkv_kv_client *kv, const char *name, const char *version, const char *alg,
                         const unsigned char *key, size_t key_len, azkv_bytes *out, azkv_err *err);

/* POST /keys/{name}/{version}/unwrapkey. out is secret: free it with
 * azkv_bytes_free (which wipes). */
azkv_rc azkv_kv_unwrap_key(azkv_kv_client *kv, const char *name, const char *version,
                           const char *alg, const unsigned char *wrapped, size_t wrapped_len,
                           azkv_bytes *out, azkv_err *err);

/* The vault URL this client was made for. */
const char *azkv_kv_client_url(const azkv_kv_client *kv);

/* Key Vault's naming rules ("About keys, secrets and certificates",
 * learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates):
 * an object name is 1-127 letters, digits and dashes; a version is 32
 * hex digits in Azure (accepted: 1-64 letters and digits). */
int azkv_kv_name_ok(const char *name);
int azkv_kv_version_ok(const char *version);

/* Splits a kid "https://host/keys/NAME[/VERSION]" into owned name and
 * version (version NULL when absent). AZKV_ERR_PROTOCOL if malformed. */
azkv_rc azkv_kid_split(const char *kid, char **name, char **version, azkv_err *err);

/* Checks that kid names what was asked of this vault: its host is host
 * (case-insensitive), its name is name, and, when version is not NULL,
 * it has a version, equal to version unless version is "". NULL host or
 * name: not checked. AZKV_ERR_PROTOCOL with the difference in err. */
azkv_rc azkv_kid_check(const char *kid, const char *host, const char *name, const char *version,
                       azkv_err *err);

/* Bounds of one listing (list keys, list versions), so that a broken or
 * hostile vault cannot keep a caller busy: at most this many items, this
 * many pages (Key Vault sends at most 25 items a page, and sometimes
 * empty pages with a nextLink), and this long in total. A nextLink seen
 * before in the same listing (a loop) ends it too. Each ends the listing
 * with AZKV_ERR_PROTOCOL. */
#define AZKV_KV_LIST_MAX_ITEMS   1000
#define AZKV_KV_LIST_MAX_PAGES   200
#define AZKV_KV_LIST_DEADLINE_MS 60000L

/* ---- Additions (backward compatible) ---------------------------------- */

/* POST /keys/{name}/{version}/{operation} with {"alg","value"} for the
 * operations that answer {"kid","value"}: "sign" (value: the digest;
 * alg "RS256", "PS256", "ES256", ...), "encrypt", "decrypt", "wrapkey",
 * "unwrapkey". version NULL or "" means the latest. out is the decoded
 * result value; it may be secret (decrypt, unwrapkey), so free it with
 * azkv_bytes_free. azkv_kv_wrap_key/unwrap_key are this function. */
azkv_rc azkv_kv_key_operation(azkv_kv_client *kv, const char *name, const char *version,
                              const char *operation, const char *alg, const unsigned char *in,
                              size_t in_len, azkv_bytes *out, azkv_err *err);

/* Parses a key operation result {"kid","value"}: value base64url-decoded
 * into out (free with azkv_bytes_free); *kid owned, NULL if absent; pass
 * kid NULL to ignore it. AZKV_ERR_PROTOCOL if value is missing or bad. */
azkv_rc azkv_kv_op_result_parse(const char *json, char **kid, azkv_bytes *out, azkv_err *err);

/* The azkv_rc for a failed Key Vault response, with err filled from its
 * error body: azkv_azure_error_from_response (azure_call.h), what (may be
 * NULL: "Key Vault") beginning the message. */
azkv_rc azkv_kv_error_from_response(long status, const char *body, const char *what, azkv_err *err);

/* The URL of a request on this vault: its URL, "/" + each escaped
 * segment (NULL or "" skipped; at most 4), and "?api-version=". Owned;
 * NULL on ENOMEM. azkv-cmk prints it for --dry-run. */
char *azkv_kv_request_url(const azkv_kv_client *kv, const char *const *segs, size_t n_segs);

/* One JSON request on that URL, with token, challenge and retries as
 * every other call: body may be NULL; on AZKV_OK *response is the parsed
 * answer (caller frees; NULL when empty). For the calls that have no
 * typed function here (rotate, rotation policy, key update). */
azkv_rc azkv_kv_json_request(azkv_kv_client *kv, const char *method, const char *const *segs,
                             size_t n_segs, const cJSON *body, cJSON **response, azkv_err *err);

#endif
