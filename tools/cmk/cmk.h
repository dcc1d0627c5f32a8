/* azkv-cmk: the Foundry customer-managed-key workflow (check, grant, bind,
 * rotate, revoke, status, rotation-policy, create-key) on the shared core
 * (src/: config, credential, HTTP, Key Vault and ARM clients).
 *
 * Shape of a command (one file each, named after it: check.c, grant.c,
 * bind.c, rotate.c, revoke.c, status.c, rotation_policy.c, create_key.c,
 * create_vault.c): resolve the targets (cmk_ctx.c), read their state
 * with GETs, decide, then make the changes through cmk_arm_change() /
 * cmk_kv_change() (requests.c), which print instead of sending under
 * --dry-run. Output goes through out.c: text for people, or one
 * document (--output: output_form.c, after --query: query.c). */
#ifndef AZKV_CMK_H
#define AZKV_CMK_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "arm.h"
#include "config.h"
#include "keyvault.h"
#include "output_form.h"
#include "query.h"

/* Exit codes (documented in --help and the README). */
enum {
	CMK_EXIT_OK = 0,
	CMK_EXIT_FINDINGS = 1,      /* check: a rule failed; status: drift */
	CMK_EXIT_USAGE = 2,         /* bad command line */
	CMK_EXIT_REFUSED = 3,       /* Azure forbids it, or a precondition fails */
	CMK_EXIT_AUTH = 4,          /* authentication or authorization failed */
	CMK_EXIT_NOT_FOUND = 5,     /* vault, key, resource or identity missing */
	CMK_EXIT_SERVICE = 6,       /* network, throttling, service error */
	CMK_EXIT_NOT_CONFIRMED = 7, /* revoke was not confirmed */
	CMK_EXIT_CONFIG = 8,        /* configuration file missing or wrong */
};

/* API versions of the Resource Manager calls. */
#define CMK_API_KEYVAULT  "2023-07-01"
#define CMK_API_AUTHZ     "2022-04-01"
#define CMK_API_COGNITIVE "2025-06-01"
#define CMK_API_ML        "2024-10-01"

/* "Key Vault Crypto Service Encryption User": get, wrapKey, unwrapKey. */
#define CMK_ROLE_CSEU "e147488a-f6f5-4113-8e2d-b22465e65bf6"

typedef struct cmk_opts {
	const char *command;
	const char *subcommand; /* rotation-policy show|set */
	const char *config;
	const char *cloud;
	const char *subscription;
	const char *resource_group;
	const char *vault;
	const char *key;
	const char *key_version;
	const char *account;
	const char *workspace;
	const char *identity;
	const char *principal;
	const char *model; /* grant: rbac | access-policy; NULL: the vault's */
	const char *to_version;
	const char *rotate_after, *expire_after, *notify_before;
	const char *module;
	const char *location, *tenant; /* create-vault */
	long retention_days;           /* create-vault; 0: 90 */
	int firewall;                  /* create-vault */
	int microsoft_managed;         /* bind: asks for the way back (refused) */
	long key_size;
	/* json: a document is asked for (--output other than the default
	 * text, or --json, or --query), so messages go to stderr. */
	int json, dry_run, yes, verbose, quiet, versionless, disable_key, exact, hsm, no_prove;
	long expiring_days; /* status/check: "expiring soon" window */
	const char *audit_workspace, *audit_storage, *audit_event_hub, *setting_name; /* audit */
	const char *project,
	        *vault_for; /* --project (projects.c); create-vault --for (permission_model.c) */
	const char *hub, *storage; /* create-hub, check/status --hub; create-hub --storage */
	cmk_output output;         /* --output (--json: json) */
	cmk_query *query;          /* --query, compiled; NULL: the whole document */
} cmk_opts;

typedef enum cmk_resource_kind {
	CMK_RES_NONE = 0,
	CMK_RES_ACCOUNT,   /* Microsoft.CognitiveServices/accounts */
	CMK_RES_WORKSPACE, /* Microsoft.MachineLearningServices/workspaces */
} cmk_resource_kind;

/* The managed identity that uses the key. */
typedef struct cmk_identity {
	char *principal_id; /* object id: what grants name */
	char *client_id;    /* user-assigned: identityClientId in the binding */
	char *resource_id;  /* user-assigned identity's ARM id */
	char *tenant_id;    /* when known */
	int user_assigned;
	char *label; /* for messages: "system-assigned identity of X" */
} cmk_identity;

/* What a resource is bound to (from its properties.encryption). */
typedef struct cmk_binding {
	int cmk;         /* keySource Microsoft.KeyVault */
	char *vault_uri; /* no trailing '/' */
	char *key_name;
	char *key_version; /* NULL: none named (Foundry keeps the one current when bound) */
	char *identity_client_id;
	int workspace_enabled; /* workspace: encryption status Enabled */
} cmk_binding;

typedef struct cmk_ctx {
	cmk_opts *o;
	azkv_config *cfg;
	azkv_http *http;
	azkv_credential *cred;
	azkv_arm_client *arm;
	int no_config; /* run without a configuration file */
	char *sub;
	/* `az account show`, asked once when a subscription or tenant is needed */
	int az_asked;
	char *az_subscription, *az_tenant;
	char az_why[AZKV_ERR_MESSAGE_MAX]; /* why it gave none */
	cJSON *result;                     /* the --json document */
	cJSON *requests;                   /* --dry-run: what would be sent */
	int changes;                       /* requests that changed (or would change) something */

	/* The vault (ARM) and its data plane. */
	char *vault_id;
	cJSON *vault; /* ARM GET */
	char *vault_uri;
	azkv_kv_client *kv;
	/* The resource, when one was named. */
	cmk_resource_kind kind;
	char *resource_id;
	cJSON *resource;
	cmk_binding binding;
	cmk_identity ident;
	int have_ident;
	char *derived_vault, *derived_key; /* owned copies behind o->vault, o->key */
} cmk_ctx;

/* ---- cmk_ctx.c: setting up and finding things ---------------------- */

/* Loads the configuration (none is needed) and makes the clients; no
 * network. */
int cmk_ctx_open(cmk_ctx *c, cmk_opts *o);
/* The Azure CLI's current subscription (az account show), asked once;
 * NULL (c->az_why says why) when az is missing or not logged in. Also
 * fills c->az_tenant. */
const char *cmk_az_account(cmk_ctx *c);
void cmk_ctx_close(cmk_ctx *c);
/* Finds the vault (ARM GET) and makes its data-plane client. */
int cmk_load_vault(cmk_ctx *c);
/* Finds --account/--workspace (ARM GET), its binding and the identity
 * (--identity, or the binding's, or the system-assigned one). Returns
 * CMK_EXIT_OK when no resource was named. */
int cmk_load_resource(cmk_ctx *c);
/* When a bound resource was named without --vault or --key, takes them
 * from its binding (the vault found by its URI in the subscription). */
int cmk_targets_from_binding(cmk_ctx *c);
/* The principal grants are about: --principal, else the resource's
 * identity. NULL if neither. */
const char *cmk_principal(const cmk_ctx *c);
/* The key's ARM scope: VAULT_ID/keys/NAME. Owned. */
char *cmk_key_scope(const cmk_ctx *c);
/* A resource id from NAME or an id: "/subscriptions/SUB/resourceGroups/
 * RG/providers/PROVIDER/NAME". Owned, or NULL (usage error printed). */
char *cmk_resource_id(cmk_ctx *c, const char *name_or_id, const char *provider);
void cmk_binding_free(cmk_binding *b);
void cmk_identity_free(cmk_identity *id);

/* ---- names.c: the names and ids put into URLs ----------------------- */

#define CMK_PROVIDER_VAULT     "Microsoft.KeyVault/vaults"
#define CMK_PROVIDER_ACCOUNT   "Microsoft.CognitiveServices/accounts"
#define CMK_PROVIDER_WORKSPACE "Microsoft.MachineLearningServices/workspaces"

typedef enum cmk_name_kind {
	CMK_NAME_VAULT = 0,
	CMK_NAME_KEY,
	CMK_NAME_VERSION,
	CMK_NAME_RESOURCE_GROUP,
	CMK_NAME_ACCOUNT,
	CMK_NAME_WORKSPACE,
	CMK_NAME_UAI,          /* Microsoft.ManagedIdentity/userAssignedIdentities */
	CMK_NAME_STORAGE,      /* Microsoft.Storage/storageAccounts */
	CMK_NAME_SYSTEM_TOPIC, /* Microsoft.EventGrid/systemTopics */
} cmk_name_kind;

/* 1 if s is a GUID (8-4-4-4-12 hexadecimal digits). */
int cmk_is_guid(const char *s);
/* 1 if name follows Azure's rule for its kind (ASCII only). */
int cmk_name_ok(cmk_name_kind kind, const char *name);
/* The rule, in words, for messages. */
const char *cmk_name_rule(cmk_name_kind kind);
/* 1 if id is exactly /subscriptions/GUID/resourceGroups/RG/providers/
 * PROVIDER/NAME (provider "NS/TYPE", any case) with a valid RG and a NAME
 * valid for kind; nothing else (no '?', '#', '%', '.' or ".."). */
int cmk_arm_id_ok(const char *id, const char *provider, cmk_name_kind kind);
/* Checks every name, id and GUID the options give, before any request;
 * a bad one is a usage error (CMK_EXIT_USAGE) saying what is allowed. */
int cmk_check_options(cmk_ctx *c);

/* ---- out.c: output and errors --------------------------------------- */

/* Prints a line for people to f: text from Azure in it is shown with
 * its control characters escaped (azkv_text_escape); a newline that fmt
 * ends with is kept. Every line azkv-cmk prints goes through here or
 * cmk_say (a format holds at most one newline, at its end). */
void cmk_print(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Progress and notes for people: stderr when a document is asked for
 * (--output, --json, --query), else stdout; silent with --quiet. */
void cmk_say(const cmk_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if f may be written in colour: it is a terminal, NO_COLOR is not set
 * (no-color.org: any value but "") and TERM is not "dumb". */
int cmk_colour(FILE *f);
/* "azkv-cmk: error:", in red when stderr may be coloured. */
const char *cmk_error_prefix(void);
/* An error: "azkv-cmk: error: MSG" and "  fix: FIX" (fix may be NULL);
 * it is also the document's "error". Returns exit_code. */
int cmk_fail(cmk_ctx *c, int exit_code, const char *fix, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* The exit code and message for a failed core call. */
int cmk_fail_err(cmk_ctx *c, const azkv_err *err, const char *fix, const char *what);
int cmk_exit_for_rc(azkv_rc rc);
/* Finishes the command: prints the document (--output, after --query) or
 * the dry-run list, and returns exit_code (a usage error when the
 * document has no table and the command succeeded). */
int cmk_finish(cmk_ctx *c, int exit_code);

/* ---- requests.c: reads, and every change (printed under --dry-run) --- */

/* A change through Resource Manager (PUT, PATCH, DELETE, POST). Under
 * --dry-run it is recorded and printed, and *response is NULL. wait: follow
 * a long-running operation, with progress. */
int cmk_arm_change(cmk_ctx *c, const char *method, const char *resource_id, const char *api_version,
                   const cJSON *body, int wait, cJSON **response, const char *what);
/* A change on the vault's data plane (segments as azkv_kv_json_request). */
int cmk_kv_change(cmk_ctx *c, const char *method, const char *const *segs, size_t n_segs,
                  const cJSON *body, cJSON **response, const char *what);
/* A read through Resource Manager; errors are reported (a 404 as "not
 * found" with not_found_fix, when given). */
int cmk_arm_get(cmk_ctx *c, const char *resource_id, const char *api_version, cJSON **out,
                const char *what, const char *not_found_fix);

/* Every item of a collection, following nextLink; errors are reported. */
int cmk_arm_list(cmk_ctx *c, const char *collection, const char *api_version, cJSON **items,
                 const char *what);

/* ---- json.c: Azure's answers read by dotted path --------------------- */

const char *cmk_str(const cJSON *obj, const char *dotted_path);
const cJSON *cmk_item(const cJSON *obj, const char *dotted_path);
int cmk_bool(const cJSON *obj, const char *dotted_path, int dflt);

/* ---- rules.c: the Foundry CMK rules ---------------------------------- */

typedef enum { CMK_PASS = 0, CMK_WARN, CMK_FAIL, CMK_INFO } cmk_verdict;

typedef struct cmk_rules {
	cJSON *list; /* [{id, status, message, fix}] */
	int fails, warns;
} cmk_rules;

void cmk_rule(cmk_ctx *c, cmk_rules *r, const char *id, cmk_verdict v, const char *fix,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Evaluates every rule that applies to what is loaded (vault, key
 * version, resource, identity, grants). version NULL: the latest. */
int cmk_evaluate(cmk_ctx *c, const char *version, cmk_rules *r);
void cmk_rules_print(const cmk_ctx *c, const cmk_rules *r);

/* ---- key_access.c: who can use the key ------------------------------ */

typedef struct cmk_grant {
	char *via;     /* "rbac" or "access-policy" */
	char *role_id; /* rbac: role definition guid */
	char *role_name;
	char *scope; /* rbac: assignment scope */
	char *assignment_id;
	char **perms; /* access policy: key permissions */
	size_t n_perms;
	int covers;    /* gives get, wrapKey and unwrapKey on the key */
	int broader;   /* gives more than that, or at a wider scope */
	int effective; /* counts under the vault's permission model */
	char *detail;  /* what is broader, for people */
	/* rbac: the assignment's ABAC condition, if any (rules_unseen.c) */
	char *condition;
} cmk_grant;

typedef struct cmk_grants {
	cmk_grant *g;
	size_t n;
	int has_access; /* some effective grant covers get/wrapKey/unwrapKey */
} cmk_grants;

/* Reads the principal's role assignments (key scope and above) and its
 * access policy, and judges each. On failure *out is empty (nothing to
 * free). */
int cmk_grants_load(cmk_ctx *c, const char *principal, cmk_grants *out);
void cmk_grants_free(cmk_grants *g);
cJSON *cmk_grants_json(const cmk_grants *g);
int cmk_vault_uses_rbac(const cmk_ctx *c);
/* The grant command that fixes a missing grant, for messages. */
void cmk_grant_fix(const cmk_ctx *c, const char *principal, char *buf, size_t n);

/* key_access.c, for grant and revoke: the vault, the resource or
 * --principal, and the principal; and an accessPolicies body for one
 * principal. */
int cmk_load_grant_targets(cmk_ctx *c, const char **principal);
cJSON *cmk_policy_body(const cmk_ctx *c, const char *principal, const char *const *perms, size_t n);

/* status.c: a drift item {id, message, fix} added to drift (fix may be
 * NULL), for every part of status that reports drift. */
void cmk_drift(cJSON *drift, const char *id, const char *fix, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ---- commands, a file each ------------------------------------------- */

int cmk_cmd_check(cmk_ctx *c);
int cmk_cmd_grant(cmk_ctx *c);
int cmk_cmd_revoke(cmk_ctx *c);
int cmk_cmd_bind(cmk_ctx *c);
int cmk_cmd_rotate(cmk_ctx *c);
int cmk_cmd_status(cmk_ctx *c);
int cmk_cmd_rotation_policy(cmk_ctx *c);
int cmk_cmd_create_key(cmk_ctx *c);
int cmk_cmd_create_vault(cmk_ctx *c);

/* bind.c, shared by bind and rotate. */
/* The resource (--account or --workspace, and with from_binding the
 * vault and key it is bound to when not named), the key and the vault. */
int cmk_load_bind_targets(cmk_ctx *c, int from_binding);
/* What Azure forbids (binding a project, changing a hub's encryption, a
 * key in another vault), refused with the reason: CMK_EXIT_REFUSED. */
int cmk_bind_refused(cmk_ctx *c);
/* Binds the resource to version (NULL: versionless; CMK_NEW_VERSION:
 * the one a dry-run rotate would make), after the rules; *changed says
 * whether a request was made. */
int cmk_bind_to(cmk_ctx *c, const char *version, int *changed);
/* Reads the resource back: is it bound to version (NULL: latest) now? */
int cmk_verify_binding(cmk_ctx *c, const char *version);

/* The version a dry-run rotate names for the one the rotation would make
 * (in the rebind it shows and in its result): it exists only after. */
#define CMK_NEW_VERSION "{new-version}"

/* rotation_policy.c, shared with create-key, check and status: the key's
 * rotation policy. fetch leaves the error to the caller; read reports it. */
azkv_rc cmk_fetch_rotation_policy(cmk_ctx *c, cJSON **policy, azkv_err *err);
int cmk_read_rotation_policy(cmk_ctx *c, cJSON **policy);
/* Sets the policy the options ask for, the rest kept from current;
 * nothing when it is already so. */
int cmk_set_rotation_policy(cmk_ctx *c, const cJSON *current);
void cmk_print_rotation_policy(const cJSON *policy);

/* help.c */
void cmk_usage(FILE *f);
int cmk_help(const char *command);

/* ---- monitoring.c: audit logs and KeyNearExpiry listeners ------------- */

#define CMK_API_MONITOR   "2021-05-01-preview" /* Microsoft.Insights/diagnosticSettings */
#define CMK_API_EVENTGRID "2022-06-15"         /* Microsoft.EventGrid */

/* azkv-cmk audit status|enable. */
int cmk_cmd_audit(cmk_ctx *c);
/* check's rules vault.audit-logs and key.near-expiry-listener (warnings,
 * never failures; a read that fails is a warning that says why). */
void cmk_monitoring_rules(cmk_ctx *c, cmk_rules *r);
/* status: one line saying where the vault's audit events go, and
 * "auditEvents" in the JSON. */
void cmk_monitoring_status(cmk_ctx *c);

/* ---- follow.c, older_versions.c, rotate.c: rotation as Foundry does it -- */

int cmk_cmd_follow(cmk_ctx *c);
/* rotate.c, shared by rotate and follow: binds the resource to version
 * (an existing one, or CMK_NEW_VERSION under --dry-run), reads it back
 * and proves the version through the module (unless --no-prove); sets
 * "rebound" in the result. */
int cmk_rebind_to_version(cmk_ctx *c, const char *version);
/* bind.c: the resource --account or --workspace names (a usage error
 * when neither is given), loaded as cmk_load_resource does. */
int cmk_load_named_resource(cmk_ctx *c);
/* older_versions.c: what Azure does not record, judged from the versions:
 * the assumption, said wherever the judgement is shown. */
extern const char cmk_older_assumption[];
/* status: the older versions that may still protect data the resource
 * wrote while bound to them, with drift when one is disabled (a note when
 * one has expired) and for a versionless binding. bound: the bound version
 * (NULL: none named); bound_here: the resource is bound to this key;
 * items: the key's versions status read (reordered), current the vault's
 * current version. */
void cmk_status_older_data(cmk_ctx *c, cJSON *drift, const char *bound, int bound_here,
                           azkv_key_item *items, size_t all, const char *current);
/* revoke --disable-key: when version may protect such data, why[] says
 * which data disabling it breaks (else it is empty). */
int cmk_older_data_at_risk(cmk_ctx *c, const char *version, char *why, size_t n);

/* ---- projects.c: Foundry projects (--project, status --account) ------ */

/* --project needs --account, excludes --principal, and is a valid
 * project name: a usage error otherwise. */
int cmk_projects_check_options(cmk_ctx *c);
/* With --project, after the account is read: the project (ARM GET; 404:
 * CMK_EXIT_NOT_FOUND) and its identity, which becomes c->ident (refused
 * when it has none). */
int cmk_project_load(cmk_ctx *c);
/* status --account without --project: every project, its identities and
 * whether each holds the grant; drift for one that does not. Returns the
 * exit code of a failed read (said; a grant it could not read is
 * "holdsGrant": null, no drift), else CMK_EXIT_OK. */
int cmk_projects_status(cmk_ctx *c, cJSON *drift);

/* ---- permission_model.c: the vault's permission model per resource kind */

/* create-vault --for account|hub: a usage error for anything else. */
int cmk_vault_for_check(cmk_ctx *c);
/* create-vault: Azure RBAC? --model, else --for (hub: access policies). */
int cmk_vault_wants_rbac(const cmk_ctx *c);
/* Rule vault.permission-model, by the kind of resource named. */
void cmk_permission_model_rule(cmk_ctx *c, cmk_rules *r);
/* grant: a note when the vault's model is not the one the kind wants. */
void cmk_permission_model_note(cmk_ctx *c, int rbac);

/* ---- issue 19, Private Link and the smaller rules (i19-rules) ---------- */

/* rules_network.c: vault.network, by path (trusted services, Private Link,
 * both, public); sets the result's "networkPath". */
void cmk_network_rule(cmk_ctx *c, cmk_rules *r);
/* rules_retention.c: vault.retention, warns below this many days. */
#define CMK_RETENTION_PRODUCTION_DAYS 90
void cmk_retention_rule(cmk_ctx *c, cmk_rules *r);
/* rules_approval.c: resource.approval-form (Speech, Content Moderator). */
void cmk_approval_rule(cmk_ctx *c, cmk_rules *r);
/* rules_unseen.c: ABAC conditions and deny assignments, which the grant
 * analysis cannot judge; gs NULL: the grants could not be read (said, not
 * passed). check calls it from its grant rules; status prints them. */
void cmk_unseen_grant_rules(cmk_ctx *c, const cmk_grants *gs, cmk_rules *r);
void cmk_unseen_grant_status(cmk_ctx *c, const cmk_grants *gs);
/* role_definition.c: ROLE's definition id in the vault's subscription
 * (c->vault_id must be set). */
void cmk_role_definition_id(const cmk_ctx *c, const char *role, char *buf, size_t n);
/* deleted_vault.c: create-vault's refusal when a soft-deleted vault holds
 * the name (CMK_EXIT_REFUSED, with how to recover or purge it). */
int cmk_refuse_deleted_vault(cmk_ctx *c);

/* ---- create_resource.c and hub.c: creation with CMK, hubs ------------ */

#define CMK_PROVIDER_UAI     "Microsoft.ManagedIdentity/userAssignedIdentities"
#define CMK_PROVIDER_STORAGE "Microsoft.Storage/storageAccounts"
#define CMK_API_MSI          "2023-01-31"
#define CMK_API_STORAGE      "2023-05-01"

int cmk_cmd_create_account(cmk_ctx *c);
int cmk_cmd_create_hub(cmk_ctx *c);
/* A GET that is not an error when the resource is missing: *out NULL. */
int cmk_arm_get_optional(cmk_ctx *c, const char *resource_id, const char *api_version, cJSON **out,
                         const char *what);
/* A user-assigned identity's tenant (its ARM resource), owned; NULL when
 * it cannot be read. */
char *cmk_uai_tenant(cmk_ctx *c, const char *uai_id);
/* bind.c: {"properties": {"encryption": ...}} binding an account to --key
 * (version NULL: versionless) through c->ident when user-assigned. */
cJSON *cmk_account_binding_body(const cmk_ctx *c, const char *version);
/* grant.c: what grant does once the vault and principal are known. */
int cmk_grant_principal(cmk_ctx *c, const char *principal);
/* hub.c: check --hub: each top-level resource of the hub and whether it
 * uses the key (hub.* rules); status: where a CMK hub keeps its data. */
void cmk_hub_rules(cmk_ctx *c, cmk_rules *r);
void cmk_hub_status(cmk_ctx *c);

/* ---- i19-fixb: shared helpers (cmk_ctx.c, hub.c) --------------------- */

#define CMK_PROVIDER_SYSTEM_TOPIC "Microsoft.EventGrid/systemTopics"

/* cmk_ctx.c: 1 if id is the ARM id of one resource of provider, its
 * name judged by that provider's naming rule (names.c). */
int cmk_resource_id_ok(const char *id, const char *provider);
/* The subscription in c->vault_id (set): a pointer into it, its length in
 * *len (len may be NULL; the segment ends at '/'), for "%.*s". Grants,
 * role definitions, deleted vaults and system topics use the vault's
 * subscription, which may differ from the resource's. */
const char *cmk_vault_subscription(const cmk_ctx *c, int *len);
/* The last '/'-separated segment of id (a resource's name, for messages). */
const char *cmk_last_segment(const char *id);
/* strdup(s), or NULL when s is NULL. */
char *cmk_dup_or_null(const char *s);
/* Options that make no sense together (--hub with --workspace or
 * --project; --account beside --hub except in check; --account with
 * --workspace): a usage error before any request (cmk_check_options). */
int cmk_check_combinations(cmk_ctx *c);
/* hub.c: the one fix for a hub made with Microsoft-managed keys or
 * another key: create a new hub with the key (create-hub), written into
 * buf with what is known (--vault, --key, identity, --location or the
 * hub's region; placeholders for the rest). */
void cmk_create_hub_fix(const cmk_ctx *c, const char *identity, char *buf, size_t n);

#endif
