/* azkv-cmk: the configuration and clients (the module's configuration
 * file and credential: one chain for both), and finding the vault, the
 * Foundry resource, its binding and its managed identity. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmk.h"
#include "credential.h"
#include "http.h"
#include "log.h"

/* The configuration: --config FILE or $AZKV_PKCS11_CONFIG must exist;
 * without either, the system file when there is one, else none at all:
 * the default credential (the Azure CLI's login among others) and every
 * default, as `az` needs no file. */
static int load_config(cmk_ctx *c, azkv_err *err)
{
	const char *env = getenv("AZKV_PKCS11_CONFIG");
	const char *path = c->o->config ? c->o->config : azkv_config_path();

	if (c->o->config || (env && *env) || access(path, F_OK) == 0)
		return azkv_config_load(path, &c->cfg, err) == AZKV_OK ? CMK_EXIT_OK
		                                                       : CMK_EXIT_CONFIG;
	c->no_config = 1;
	return azkv_config_new_default(&c->cfg, err) == AZKV_OK ? CMK_EXIT_OK : CMK_EXIT_CONFIG;
}

int cmk_ctx_open(cmk_ctx *c, cmk_opts *o)
{
	const char *sub;
	azkv_err err;

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->result = cJSON_CreateObject();
	c->requests = cJSON_CreateArray();
	cJSON_AddStringToObject(c->result, "command", o->command);
	azkv_err_clear(&err);
	if (load_config(c, &err) != CMK_EXIT_OK)
		return cmk_fail(c, CMK_EXIT_CONFIG,
		                "fix the file, or name another with --config FILE or "
		                "AZKV_PKCS11_CONFIG (README: \"Configuring the module\"); without "
		                "either, azkv-cmk uses your 'az login'",
		                "%s", err.message);
	if (o->cloud) {
		c->cfg->cloud = azkv_cloud_find(o->cloud);
		if (!c->cfg->cloud)
			return cmk_fail(c, CMK_EXIT_USAGE, NULL, "--cloud %s is not one of %s",
			                o->cloud, azkv_cloud_names());
	}
	/* The log goes to stderr; --verbose shows every request. */
	azkv_log_configure(o->verbose          ? "trace"
	                   : c->cfg->log_level ? c->cfg->log_level
	                                       : "error",
	                   c->cfg->log_file, c->cfg->log_format);
	if (azkv_http_global_init(&err) != AZKV_OK ||
	    azkv_http_new(&c->cfg->http, &c->http, &err) != AZKV_OK ||
	    azkv_credential_new(&c->cfg->credential, c->cfg->cloud, c->cfg->http.retry.max_retries,
	                        c->http, &c->cred, &err) != AZKV_OK ||
	    azkv_arm_client_new(c->cfg->cloud, c->cfg->arm_endpoint, c->cfg->http.retry.max_retries,
	                        c->http, c->cred, &c->arm, &err) != AZKV_OK)
		return cmk_fail(c, err.rc == AZKV_ERR_CONFIG ? CMK_EXIT_CONFIG : CMK_EXIT_SERVICE,
		                NULL, "%s", err.message);
	sub = o->subscription;
	if (!sub)
		sub = c->cfg->arm_subscription_id;
	if (!sub && getenv("AZURE_SUBSCRIPTION_ID") && *getenv("AZURE_SUBSCRIPTION_ID"))
		sub = getenv("AZURE_SUBSCRIPTION_ID");
	if (sub)
		c->sub = strdup(sub);
	return CMK_EXIT_OK;
}

const char *cmk_az_account(cmk_ctx *c)
{
	char *sub = NULL, *tenant = NULL, *cloud = NULL;
	azkv_err err;

	if (c->az_asked)
		return c->az_subscription;
	c->az_asked = 1;
	azkv_err_clear(&err);
	if (azkv_azure_cli_account(c->cfg->credential.process_timeout_ms, &sub, &tenant, &cloud,
	                           &err) != AZKV_OK) {
		snprintf(c->az_why, sizeof(c->az_why), "%s", err.message);
		return NULL;
	}
	if (cloud && !c->o->cloud && azkv_cloud_find(cloud) != c->cfg->cloud)
		cmk_say(c, "note: az is logged in to cloud %s; this run uses %s (--cloud)", cloud,
		        c->cfg->cloud->name);
	free(cloud);
	c->az_subscription = sub;
	c->az_tenant = tenant;
	return sub;
}

void cmk_binding_free(cmk_binding *b)
{
	free(b->vault_uri);
	free(b->key_name);
	free(b->key_version);
	free(b->identity_client_id);
	memset(b, 0, sizeof(*b));
}

void cmk_identity_free(cmk_identity *id)
{
	free(id->principal_id);
	free(id->client_id);
	free(id->resource_id);
	free(id->tenant_id);
	free(id->label);
	memset(id, 0, sizeof(*id));
}

void cmk_ctx_close(cmk_ctx *c)
{
	cJSON_Delete(c->result);
	cJSON_Delete(c->requests);
	cJSON_Delete(c->vault);
	cJSON_Delete(c->resource);
	free(c->vault_id);
	free(c->vault_uri);
	free(c->resource_id);
	free(c->sub);
	free(c->az_subscription);
	free(c->az_tenant);
	free(c->derived_vault);
	free(c->derived_key);
	cmk_binding_free(&c->binding);
	cmk_identity_free(&c->ident);
	azkv_kv_client_free(c->kv);
	azkv_arm_client_free(c->arm);
	azkv_credential_free(c->cred);
	azkv_http_free(c->http);
	azkv_config_free(c->cfg);
	azkv_http_global_cleanup();
	azkv_log_shutdown();
}

/* ---- resource ids ------------------------------------------------------- */

/* The subscription named in an ARM id, adopted when none was given. */
static void adopt_subscription(cmk_ctx *c, const char *id)
{
	const char *p = id + strlen("/subscriptions/");
	size_t n = strcspn(p, "/");

	if (c->sub || n == 0)
		return;
	c->sub = strndup(p, n);
}

const char *cmk_vault_subscription(const cmk_ctx *c, int *len)
{
	const char *p = c->vault_id + strlen("/subscriptions/");

	if (len)
		*len = (int)strcspn(p, "/");
	return p;
}

const char *cmk_last_segment(const char *id)
{
	const char *s = strrchr(id, '/');

	return s ? s + 1 : id;
}

char *cmk_dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The kind of name a resource of provider has. */
static cmk_name_kind provider_name_kind(const char *provider)
{
	if (strcmp(provider, CMK_PROVIDER_ACCOUNT) == 0)
		return CMK_NAME_ACCOUNT;
	if (strcmp(provider, CMK_PROVIDER_WORKSPACE) == 0)
		return CMK_NAME_WORKSPACE;
	if (strcmp(provider, CMK_PROVIDER_UAI) == 0)
		return CMK_NAME_UAI;
	if (strcmp(provider, CMK_PROVIDER_STORAGE) == 0)
		return CMK_NAME_STORAGE;
	if (strcmp(provider, CMK_PROVIDER_SYSTEM_TOPIC) == 0)
		return CMK_NAME_SYSTEM_TOPIC;
	return CMK_NAME_VAULT;
}

int cmk_resource_id_ok(const char *id, const char *provider)
{
	return cmk_arm_id_ok(id, provider, provider_name_kind(provider));
}

char *cmk_resource_id(cmk_ctx *c, const char *name_or_id, const char *provider)
{
	const char *rg = c->o->resource_group;
	cmk_name_kind kind = provider_name_kind(provider);
	size_t len;
	char *id;

	if (strncasecmp(name_or_id, "/subscriptions/", 15) == 0) {
		adopt_subscription(c, name_or_id);
		id = strdup(name_or_id);
		if (id) {
			len = strlen(id);
			while (len > 1 && id[len - 1] == '/')
				id[--len] = '\0';
		}
		goto check;
	}
	if (!cmk_name_ok(kind, name_or_id)) {
		cmk_fail(c, CMK_EXIT_USAGE, "give the resource's name or its full ARM id",
		         "\"%s\" is neither a valid %s name (%s) nor an ARM id "
		         "(/subscriptions/...)",
		         name_or_id, provider, cmk_name_rule(kind));
		return NULL;
	}
	if (!c->sub && cmk_az_account(c))
		c->sub = strdup(c->az_subscription);
	if (!c->sub) {
		cmk_fail(c, CMK_EXIT_USAGE,
		         "use --subscription ID, AZURE_SUBSCRIPTION_ID, \"arm\": "
		         "{\"subscription_id\"} in the configuration, a full ARM id, or 'az "
		         "login' (az account show names the subscription)",
		         "no subscription for %s \"%s\" (%s)", provider, name_or_id, c->az_why);
		return NULL;
	}
	if (!rg) {
		cmk_fail(c, CMK_EXIT_USAGE, "use --resource-group RG (-g), or a full ARM id",
		         "no resource group for %s \"%s\"", provider, name_or_id);
		return NULL;
	}
	len = strlen(c->sub) + strlen(rg) + strlen(provider) + strlen(name_or_id) + 64;
	id = malloc(len);
	if (id)
		snprintf(id, len, "/subscriptions/%s/resourceGroups/%s/providers/%s/%s", c->sub, rg,
		         provider, name_or_id);
check:
	/* Whatever it came from (options, az, an ARM answer), the id goes
	 * into a URL as it is: it must name one resource and nothing more. */
	if (id && !cmk_arm_id_ok(id, provider, kind)) {
		cmk_fail(c, CMK_EXIT_USAGE,
		         "an ARM id is "
		         "/subscriptions/GUID/resourceGroups/RG/providers/PROVIDER/NAME "
		         "with nothing after it; check the name, --resource-group and "
		         "--subscription",
		         "%s is not a valid ARM id of a %s", id, provider);
		free(id);
		return NULL;
	}
	return id;
}

char *cmk_key_scope(const cmk_ctx *c)
{
	size_t len = strlen(c->vault_id) + strlen(c->o->key) + 8;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, "%s/keys/%s", c->vault_id, c->o->key);
	return s;
}

/* ---- the vault ---------------------------------------------------------- */

int cmk_load_vault(cmk_ctx *c)
{
	const char *uri;
	azkv_err err;
	size_t len;
	int rc;

	if (!c->o->vault)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --vault NAME (or its ARM id)",
		                "%s needs the key vault", c->o->command);
	c->vault_id = cmk_resource_id(c, c->o->vault, CMK_PROVIDER_VAULT);
	if (!c->vault_id)
		return CMK_EXIT_USAGE;
	rc = cmk_arm_get(c, c->vault_id, CMK_API_KEYVAULT, &c->vault, "read the key vault",
	                 "check --vault, --resource-group and --subscription (az keyvault list "
	                 "shows where it is), or create it: azkv-cmk create-vault");
	if (rc != CMK_EXIT_OK)
		return rc;
	uri = cmk_str(c->vault, "properties.vaultUri");
	if (!uri)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "key vault %s has no vaultUri",
		                c->vault_id);
	c->vault_uri = strdup(uri);
	if (!c->vault_uri)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	len = strlen(c->vault_uri);
	while (len > 0 && c->vault_uri[len - 1] == '/')
		c->vault_uri[--len] = '\0';
	azkv_err_clear(&err);
	if (azkv_kv_client_new(c->vault_uri, c->cfg->api_version, c->cfg->http.retry.max_retries,
	                       c->http, c->cred, &c->kv, &err) != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, "key vault client");
	cJSON_AddStringToObject(c->result, "vault", c->vault_id);
	cJSON_AddStringToObject(c->result, "vaultUri", c->vault_uri);
	if (c->o->key)
		cJSON_AddStringToObject(c->result, "key", c->o->key);
	return CMK_EXIT_OK;
}

/* ---- the resource, its binding and identity -------------------------- */

/* "https://v.vault.azure.net/keys/NAME/VERSION" → vault uri, name, version. */
static void split_key_identifier(const char *kid, cmk_binding *b)
{
	const char *keys = strstr(kid, "/keys/");
	const char *name, *slash;

	if (!keys)
		return;
	b->vault_uri = strndup(kid, (size_t)(keys - kid));
	name = keys + 6;
	slash = strchr(name, '/');
	b->key_name = slash ? strndup(name, (size_t)(slash - name)) : strdup(name);
	if (slash && slash[1])
		b->key_version = strdup(slash + 1);
}

static void read_binding(cmk_ctx *c)
{
	cmk_binding *b = &c->binding;
	const cJSON *enc = cmk_item(c->resource, "properties.encryption");
	size_t len;

	if (c->kind == CMK_RES_ACCOUNT) {
		const char *src = cmk_str(enc, "keySource");

		b->cmk = src && strcasecmp(src, "Microsoft.KeyVault") == 0;
		if (b->cmk) {
			b->vault_uri =
			        cmk_dup_or_null(cmk_str(enc, "keyVaultProperties.keyVaultUri"));
			b->key_name = cmk_dup_or_null(cmk_str(enc, "keyVaultProperties.keyName"));
			b->key_version =
			        cmk_dup_or_null(cmk_str(enc, "keyVaultProperties.keyVersion"));
			b->identity_client_id = cmk_dup_or_null(
			        cmk_str(enc, "keyVaultProperties.identityClientId"));
		}
	} else {
		const char *status = cmk_str(enc, "status");
		const char *kid = cmk_str(enc, "keyVaultProperties.keyIdentifier");

		b->workspace_enabled = status && strcasecmp(status, "Enabled") == 0;
		b->cmk = b->workspace_enabled && kid;
		if (kid)
			split_key_identifier(kid, b);
		b->identity_client_id =
		        cmk_dup_or_null(cmk_str(enc, "keyVaultProperties.identityClientId"));
	}
	if (b->key_version && !*b->key_version) {
		free(b->key_version);
		b->key_version = NULL;
	}
	if (b->vault_uri) {
		len = strlen(b->vault_uri);
		while (len > 0 && b->vault_uri[len - 1] == '/')
			b->vault_uri[--len] = '\0';
	}
}

/* Finds a user-assigned identity of the resource by client id, principal
 * id or resource id. */
static int pick_user_assigned(cmk_ctx *c, const char *want)
{
	const cJSON *uas = cmk_item(c->resource, "identity.userAssignedIdentities");
	const cJSON *ua;
	char *tenant;

	cJSON_ArrayForEach(ua, uas)
	{
		const char *cid = cmk_str(ua, "clientId"), *pid = cmk_str(ua, "principalId");

		/* A map of resource id to {clientId, principalId}; anything else
		 * (an array, a string) names no identity. */
		if (!ua->string || !cJSON_IsObject(ua))
			continue;
		if (strcasecmp(ua->string, want) == 0 || (cid && strcasecmp(cid, want) == 0) ||
		    (pid && strcasecmp(pid, want) == 0)) {
			c->ident.user_assigned = 1;
			c->ident.principal_id = cmk_dup_or_null(pid);
			c->ident.client_id = cmk_dup_or_null(cid);
			c->ident.resource_id = strdup(ua->string);
			c->ident.tenant_id =
			        cmk_dup_or_null(cmk_str(c->resource, "identity.tenantId"));
			/* A user-assigned identity's tenant is its own resource's. */
			if ((tenant = cmk_uai_tenant(c, ua->string)) != NULL) {
				free(c->ident.tenant_id);
				c->ident.tenant_id = tenant;
			}
			return 1;
		}
	}
	return 0;
}

static int load_identity(cmk_ctx *c)
{
	const char *want = c->o->identity;
	const char *name = cmk_str(c->resource, "name");
	char label[512];

	/* A hub names the identity that reaches the key in its encryption
	 * (a project shows its hub's encryption, not its identity). */
	if (!want && c->kind == CMK_RES_WORKSPACE && cmk_str(c->resource, "kind") &&
	    strcasecmp(cmk_str(c->resource, "kind"), "Hub") == 0)
		want = cmk_str(c->resource, "properties.encryption.identity.userAssignedIdentity");
	if (!want && c->binding.identity_client_id)
		want = c->binding.identity_client_id;
	if (want && strcasecmp(want, "system") != 0) {
		if (!pick_user_assigned(c, want))
			return cmk_fail(
			        c, CMK_EXIT_NOT_FOUND,
			        "assign the user-assigned identity to the resource first "
			        "(az cognitiveservices account identity assign --identities ID), "
			        "or use --identity system",
			        "%s has no user-assigned identity \"%s\"", c->resource_id, want);
		snprintf(label, sizeof(label), "user-assigned identity %s (principal %s) of %s",
		         c->ident.resource_id, c->ident.principal_id ? c->ident.principal_id : "?",
		         name ? name : c->resource_id);
	} else {
		const char *pid = cmk_str(c->resource, "identity.principalId");

		if (!pid) {
			/* Not an error here: check reports it, bind refuses it. */
			return CMK_EXIT_OK;
		}
		c->ident.principal_id = strdup(pid);
		c->ident.tenant_id = cmk_dup_or_null(cmk_str(c->resource, "identity.tenantId"));
		snprintf(label, sizeof(label), "system-assigned identity of %s (principal %s)",
		         name ? name : c->resource_id, pid);
	}
	c->ident.label = strdup(label);
	c->have_ident = c->ident.principal_id != NULL;
	return CMK_EXIT_OK;
}

int cmk_check_combinations(cmk_ctx *c)
{
	const cmk_opts *o = c->o;

	if (o->hub && o->workspace)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "name the hub with --hub, or any workspace with --workspace",
		                "--hub and --workspace both name the workspace to use");
	if (o->hub && o->project)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "a hub's project is a workspace: --workspace PROJECT; --project is "
		                "a Foundry resource's project (--account NAME --project NAME)",
		                "--project cannot be used with --hub");
	/* check --hub --account: the hub's Foundry resource (hub.c); status
	 * reads one resource. */
	if (o->hub && o->account && strcmp(o->command, "check") != 0)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "run status once per resource: --hub HUB, then --account NAME",
		                "%s --hub cannot take --account too", o->command);
	if (o->account && o->workspace)
		return cmk_fail(c, CMK_EXIT_USAGE, "name one of them",
		                "--account and --workspace cannot be used together");
	return CMK_EXIT_OK;
}

int cmk_load_resource(cmk_ctx *c)
{
	const char *what;
	int rc;

	/* --hub is the hub workspace; an --account beside it is the hub's
	 * Foundry resource, which hub.c checks (cmk_check_combinations refused
	 * the rest). */
	if (c->o->hub && !c->o->workspace)
		c->o->workspace = c->o->hub;
	if (c->o->account && !c->o->hub) {
		c->kind = CMK_RES_ACCOUNT;
		c->resource_id = cmk_resource_id(c, c->o->account, CMK_PROVIDER_ACCOUNT);
		what = "read the Foundry resource";
	} else if (c->o->workspace) {
		c->kind = CMK_RES_WORKSPACE;
		c->resource_id = cmk_resource_id(c, c->o->workspace, CMK_PROVIDER_WORKSPACE);
		what = "read the hub/project workspace";
	} else {
		return CMK_EXIT_OK;
	}
	if (!c->resource_id)
		return CMK_EXIT_USAGE;
	rc = cmk_arm_get(c, c->resource_id,
	                 c->kind == CMK_RES_ACCOUNT ? CMK_API_COGNITIVE : CMK_API_ML, &c->resource,
	                 what, "check the name, --resource-group and --subscription");
	if (rc != CMK_EXIT_OK)
		return rc;
	if (!cJSON_GetObjectItemCaseSensitive(c->result, "resource"))
		cJSON_AddStringToObject(c->result, "resource", c->resource_id);
	read_binding(c);
	return c->o->project ? cmk_project_load(c) : load_identity(c);
}

const char *cmk_principal(const cmk_ctx *c)
{
	if (c->o->principal)
		return c->o->principal;
	return c->have_ident ? c->ident.principal_id : NULL;
}

int cmk_targets_from_binding(cmk_ctx *c)
{
	char path[512];
	cJSON *list = NULL;
	const cJSON *v;
	int rc;

	if (!c->resource || !c->binding.cmk)
		return CMK_EXIT_OK;
	if (!c->o->key && c->binding.key_name) {
		if (!cmk_name_ok(CMK_NAME_KEY, c->binding.key_name))
			return cmk_fail(c, CMK_EXIT_SERVICE, "name the key with --key",
			                "the resource's binding names key \"%s\", which is not a "
			                "valid key name (%s)",
			                c->binding.key_name, cmk_name_rule(CMK_NAME_KEY));
		c->derived_key = strdup(c->binding.key_name);
		c->o->key = c->derived_key;
	}
	if (c->o->vault || !c->binding.vault_uri)
		return CMK_EXIT_OK;
	if (!c->sub && cmk_az_account(c))
		c->sub = strdup(c->az_subscription);
	if (!c->sub)
		return CMK_EXIT_OK;
	snprintf(path, sizeof(path), "/subscriptions/%s/providers/Microsoft.KeyVault/vaults",
	         c->sub);
	rc = cmk_arm_list(c, path, CMK_API_KEYVAULT, &list, "list the subscription's key vaults");
	if (rc != CMK_EXIT_OK)
		return rc;
	cJSON_ArrayForEach(v, list)
	{
		const char *uri = cmk_str(v, "properties.vaultUri");
		size_t n = uri ? strlen(uri) : 0;

		while (n > 0 && uri[n - 1] == '/')
			n--;
		if (uri && n == strlen(c->binding.vault_uri) &&
		    strncasecmp(uri, c->binding.vault_uri, n) == 0 && cmk_str(v, "id")) {
			c->derived_vault = strdup(cmk_str(v, "id"));
			c->o->vault = c->derived_vault;
		}
	}
	cJSON_Delete(list);
	if (!c->o->vault)
		return cmk_fail(c, CMK_EXIT_NOT_FOUND, "name it with --vault",
		                "the bound vault %s is not in subscription %s",
		                c->binding.vault_uri, c->sub);
	return CMK_EXIT_OK;
}
