/* azkv-cmk create-account and create-hub: a Foundry resource (Cognitive
 * Services account of kind AIServices) or an AI hub created with a
 * customer-managed key from the start.
 *
 * The chicken-and-egg: a system-assigned identity exists only once the
 * resource does, so it cannot be granted on the key before the resource
 * is created with the key. A user-assigned identity can
 * (foundry-cmk-lab.txt, "Managed identity access": "either system-assigned (tied to
 * the Foundry resource) or user-assigned (centrally managed or shared)";
 * foundry-cmk-field-notes.txt, "AI Foundry and CMKs": "The user-assigned
 * managed identity associated with your hub needs appropriate permissions
 * on the key"). So: the same rules as bind (cmk_evaluate), then create or
 * reuse the identity (--identity NAME in the resource group), grant it on
 * the key (grant.c), then create the resource with the key and that
 * identity. A hub's encryption is fixed at creation
 * (foundry-cmk-reference.txt, "Data storage options with Azure AI Hub CMK
 * encryption"), which is why this is the fix for a hub made with
 * Microsoft-managed keys. The hub keeps its data service-side
 * (enableServiceSideCMKEncryption), the reference's "(Recommended)"
 * option for new deployments. Every change goes through cmk_arm_change:
 * --dry-run prints each request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

/* The user-assigned identity the resource will use. */
typedef struct uai {
	char *id;
	char *principal, *client, *tenant; /* placeholders in a dry run before it exists */
	int exists;
} uai;

static void uai_free(uai *u)
{
	free(u->id);
	free(u->principal);
	free(u->client);
	free(u->tenant);
}

int cmk_arm_get_optional(cmk_ctx *c, const char *resource_id, const char *api_version, cJSON **out,
                         const char *what)
{
	azkv_err err;
	long status = 0;

	*out = NULL;
	azkv_err_clear(&err);
	if (azkv_arm_request(c->arm, "GET", resource_id, api_version, NULL, out, &status, &err) ==
	    AZKV_OK)
		return CMK_EXIT_OK;
	if (err.rc == AZKV_ERR_NOT_FOUND)
		return CMK_EXIT_OK;
	return cmk_fail_err(c, &err, NULL, what);
}

char *cmk_uai_tenant(cmk_ctx *c, const char *uai_id)
{
	cJSON *res = NULL;
	azkv_err err;
	long status = 0;
	char *tenant = NULL;

	/* Only an id of that type goes into the URL; an identity the
	 * caller may not read leaves the tenant unknown (no rule). */
	if (!cmk_resource_id_ok(uai_id, CMK_PROVIDER_UAI))
		return NULL;
	azkv_err_clear(&err);
	if (azkv_arm_request(c->arm, "GET", uai_id, CMK_API_MSI, NULL, &res, &status, &err) ==
	    AZKV_OK)
		tenant = cmk_dup_or_null(cmk_str(res, "properties.tenantId"));
	cJSON_Delete(res);
	return tenant;
}

static void uai_fill(uai *u, const cJSON *res)
{
	free(u->principal);
	free(u->client);
	free(u->tenant);
	u->principal = cmk_dup_or_null(cmk_str(res, "properties.principalId"));
	u->client = cmk_dup_or_null(cmk_str(res, "properties.clientId"));
	u->tenant = cmk_dup_or_null(cmk_str(res, "properties.tenantId"));
}

/* Finds --identity; absent, a dry run names placeholders. */
static int uai_load(cmk_ctx *c, uai *u)
{
	cJSON *res = NULL;
	char buf[256];
	int rc;

	u->id = cmk_resource_id(c, c->o->identity, CMK_PROVIDER_UAI);
	if (!u->id)
		return CMK_EXIT_USAGE;
	rc = cmk_arm_get_optional(c, u->id, CMK_API_MSI, &res, "read the user-assigned identity");
	if (rc != CMK_EXIT_OK)
		return rc;
	u->exists = res != NULL;
	if (res) {
		uai_fill(u, res);
		cJSON_Delete(res);
		if (!u->principal || !u->client)
			return cmk_fail(
			        c, CMK_EXIT_SERVICE, NULL,
			        "the user-assigned identity %s has no principalId or clientId",
			        u->id);
		return CMK_EXIT_OK;
	}
	snprintf(buf, sizeof(buf), "{principalId of %s}", c->o->identity);
	u->principal = strdup(buf);
	snprintf(buf, sizeof(buf), "{clientId of %s}", c->o->identity);
	u->client = strdup(buf);
	return CMK_EXIT_OK;
}

/* The tenant a new identity will be in, before it exists. Azure puts a
 * user-assigned identity in its subscription's tenant; azkv-cmk reads no
 * subscription's tenant, so this is known only when az named it (the
 * identity's subscription is az's). NULL otherwise: then the tenant is
 * compared right after the identity is made, before the grant. */
static const char *uai_planned_tenant(const cmk_ctx *c, const uai *u)
{
	const char *sub = u->id + strlen("/subscriptions/");
	size_t n = strcspn(sub, "/");

	if (c->az_tenant && c->az_subscription && strlen(c->az_subscription) == n &&
	    strncasecmp(c->az_subscription, sub, n) == 0)
		return c->az_tenant;
	return NULL;
}

/* Says, before any change, which tenant the new identity will be in. */
static void uai_plan(cmk_ctx *c, uai *u)
{
	const char *vt = cmk_str(c->vault, "properties.tenantId");
	const char *planned = uai_planned_tenant(c, u);
	int n;
	const char *sub = cmk_vault_subscription(c, &n);

	if (planned) {
		cmk_say(c,
		        "note: identity %s will be created in tenant %s (its subscription's, "
		        "as az names it)\n",
		        u->id, planned);
		free(u->tenant);
		u->tenant = strdup(planned);
		return;
	}
	cmk_say(c,
	        "note: identity %s does not exist yet; Azure creates it in its subscription's "
	        "tenant, which azkv-cmk cannot read before then: it is compared with the vault's "
	        "tenant (%s) right after the identity is created, before the grant%s%.*s%s\n",
	        u->id, vt ? vt : "?",
	        strncasecmp(u->id + strlen("/subscriptions/"), sub, (size_t)n) == 0
	                ? " (same subscription as the vault: subscription "
	                : " (the vault is in another subscription: ",
	        n, sub, ")");
}

static int uai_create(cmk_ctx *c, uai *u)
{
	cJSON *body = cJSON_CreateObject(), *resp = NULL;
	int rc;

	cJSON_AddStringToObject(body, "location", c->o->location);
	cmk_say(c, "Creating user-assigned identity %s in %s\n", u->id, c->o->location);
	rc = cmk_arm_change(c, "PUT", u->id, CMK_API_MSI, body, 0, &resp,
	                    "create the user-assigned identity");
	cJSON_Delete(body);
	/* An answer without a body: read the identity, so that the grant and
	 * the resource name its real principal and client ids, never the
	 * dry run's placeholders. */
	if (rc == CMK_EXIT_OK && !resp && !c->o->dry_run) {
		rc = cmk_arm_get(c, u->id, CMK_API_MSI, &resp,
		                 "read the new user-assigned identity",
		                 "run it again: the identity exists now and is reused");
	}
	if (rc == CMK_EXIT_OK && resp) {
		uai_fill(u, resp);
		if (!u->principal || !u->client)
			rc = cmk_fail(c, CMK_EXIT_SERVICE, NULL,
			              "the new identity %s has no principalId or clientId", u->id);
	}
	cJSON_Delete(resp);
	return rc;
}

/* The key identifier the resource will be bound to: the named version, or
 * (as bind and the portal do) the current one; --versionless: none. */
static int pick_version(cmk_ctx *c, char **version)
{
	azkv_key key;
	azkv_err err;

	*version = NULL;
	if (c->o->versionless)
		return CMK_EXIT_OK;
	if (c->o->key_version) {
		*version = strdup(c->o->key_version);
		return CMK_EXIT_OK;
	}
	azkv_err_clear(&err);
	if (azkv_kv_get_key(c->kv, c->o->key, NULL, &key, &err) != AZKV_OK)
		return cmk_fail_err(c, &err,
		                    err.rc == AZKV_ERR_NOT_FOUND
		                            ? "check --key, or create it: azkv-cmk create-key"
		                            : NULL,
		                    "read the key");
	*version = strdup(key.version);
	azkv_key_free(&key);
	return CMK_EXIT_OK;
}

static cJSON *identity_block(const uai *u)
{
	cJSON *id = cJSON_CreateObject();

	cJSON_AddStringToObject(id, "type", "UserAssigned");
	cJSON_AddObjectToObject(cJSON_AddObjectToObject(id, "userAssignedIdentities"), u->id);
	return id;
}

/* The binding bind makes, with the new resource's own fields. */
static cJSON *account_body(cmk_ctx *c, const char *name, const uai *u, const char *version)
{
	cJSON *body, *props;

	c->ident.user_assigned = 1;
	c->ident.client_id = strdup(u->client);
	body = cmk_account_binding_body(c, version);
	cmk_identity_free(&c->ident);
	props = cJSON_GetObjectItemCaseSensitive(body, "properties");
	cJSON_AddStringToObject(body, "location", c->o->location);
	cJSON_AddStringToObject(body, "kind", "AIServices");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "sku"), "name", "S0");
	cJSON_AddItemToObject(body, "identity", identity_block(u));
	cJSON_AddStringToObject(props, "customSubDomainName", name);
	/* A Foundry resource that holds projects (the new Foundry model). */
	cJSON_AddBoolToObject(props, "allowProjectManagement", 1);
	return body;
}

static cJSON *hub_body(const cmk_ctx *c, const char *name, const uai *u, const char *version,
                       const char *storage_id)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *props, *enc, *kvp;
	char kid[1024];

	cJSON_AddStringToObject(body, "location", c->o->location);
	cJSON_AddStringToObject(body, "kind", "Hub");
	cJSON_AddItemToObject(body, "identity", identity_block(u));
	props = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(props, "friendlyName", name);
	cJSON_AddStringToObject(props, "keyVault", c->vault_id);
	if (storage_id)
		cJSON_AddStringToObject(props, "storageAccount", storage_id);
	cJSON_AddStringToObject(props, "primaryUserAssignedIdentity", u->id);
	/* foundry-cmk-reference.txt, "Data storage options with Azure AI Hub
	 * CMK encryption": service-side storage is "(Recommended)" and "It's
	 * recommended to pick this option for any new deployments". */
	cJSON_AddBoolToObject(props, "enableServiceSideCMKEncryption", 1);
	enc = cJSON_AddObjectToObject(props, "encryption");
	cJSON_AddStringToObject(enc, "status", "Enabled");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(enc, "identity"), "userAssignedIdentity",
	                        u->id);
	kvp = cJSON_AddObjectToObject(enc, "keyVaultProperties");
	cJSON_AddStringToObject(kvp, "keyVaultArmId", c->vault_id);
	snprintf(kid, sizeof(kid), "%s/keys/%s%s%s", c->vault_uri, c->o->key, version ? "/" : "",
	         version ? version : "");
	cJSON_AddStringToObject(kvp, "keyIdentifier", kid);
	cJSON_AddStringToObject(kvp, "identityClientId", u->client);
	return body;
}

/* The resource exists: nothing to do when it uses the key, else refused. */
static int existing(cmk_ctx *c, const char *name, const char *identity)
{
	char fix[1024];
	int rc = cmk_load_resource(c);

	if (rc != CMK_EXIT_OK)
		return rc;
	if (c->binding.cmk && c->binding.vault_uri && c->binding.key_name &&
	    strcasecmp(c->binding.vault_uri, c->vault_uri) == 0 &&
	    strcasecmp(c->binding.key_name, c->o->key) == 0) {
		cmk_say(c, "Nothing to do: %s already exists and uses key %s in %s.\n",
		        c->resource_id, c->o->key, c->vault_uri);
		cJSON_AddBoolToObject(c->result, "changed", 0);
		return CMK_EXIT_OK;
	}
	if (c->binding.cmk)
		return cmk_fail(c, CMK_EXIT_REFUSED,
		                "rotate within its vault (azkv-cmk rotate), or give another name",
		                "%s already exists with another customer-managed key (%s/keys/%s); "
		                "nothing was changed",
		                c->resource_id, c->binding.vault_uri ? c->binding.vault_uri : "?",
		                c->binding.key_name ? c->binding.key_name : "?");
	if (c->kind == CMK_RES_ACCOUNT)
		snprintf(fix, sizeof(fix),
		         "an account can take the key later: azkv-cmk grant --vault %s --key %s "
		         "--account %s, then azkv-cmk bind (same options); or create-account "
		         "with another name",
		         c->o->vault, c->o->key, name);
	else
		cmk_create_hub_fix(c, identity, fix, sizeof(fix));
	return cmk_fail(c, CMK_EXIT_REFUSED, fix,
	                "%s already exists with Microsoft-managed keys; nothing was changed",
	                c->resource_id);
}

/* The rules before anything is made, for the resource as it will be: the
 * grant comes next, so its failure alone does not stop the creation. */
static int rules_before(cmk_ctx *c, const char *name, const uai *u, const char *version)
{
	cmk_rules r = {0};
	const cJSON *o;
	char label[1024];
	int fails = 0, rc;

	c->resource = cJSON_CreateObject();
	cJSON_AddStringToObject(c->resource, "name", name);
	cJSON_AddStringToObject(c->resource, "location", c->o->location);
	c->binding.workspace_enabled = c->kind == CMK_RES_WORKSPACE;
	snprintf(label, sizeof(label), "user-assigned identity %s%s", u->id,
	         u->exists ? "" : " (to be created)");
	c->ident.label = strdup(label);
	c->ident.user_assigned = 1;
	if (u->exists)
		c->ident.principal_id = strdup(u->principal);
	/* An existing identity's tenant, or a new one's when known
	 * (uai_plan): resource.tenant refuses before any change. */
	c->ident.tenant_id = cmk_dup_or_null(u->tenant);
	c->have_ident = 1;
	rc = cmk_evaluate(c, version, &r);
	cJSON_ArrayForEach(o, r.list)
	{
		if (strcmp(cmk_str(o, "status"), "fail") == 0 &&
		    strcmp(cmk_str(o, "id"), "identity.grant") != 0)
			fails++;
	}
	if (rc == CMK_EXIT_OK && fails) {
		cmk_rules_print(c, &r);
		rc = cmk_fail(c, CMK_EXIT_REFUSED, "fix the failed rules above, then run it again",
		              "not creating %s: %d Foundry CMK rule(s) fail; nothing was changed",
		              name, fails);
	}
	cJSON_AddItemToObject(c->result, "rules", r.list);
	cJSON_Delete(c->resource);
	c->resource = NULL;
	cmk_identity_free(&c->ident);
	c->have_ident = 0;
	return rc;
}

static int create(cmk_ctx *c, cmk_resource_kind kind, const char *opt, const char *name)
{
	const char *cmd = c->o->command;
	const char *provider =
	        kind == CMK_RES_ACCOUNT ? CMK_PROVIDER_ACCOUNT : CMK_PROVIDER_WORKSPACE;
	const char *api = kind == CMK_RES_ACCOUNT ? CMK_API_COGNITIVE : CMK_API_ML;
	const char *identity = c->o->identity;
	cJSON *found = NULL, *body = NULL, *resp = NULL, *id;
	char *version = NULL, *storage_id = NULL;
	uai u = {0};
	int rc;

	if (!name || !c->o->key || !c->o->identity || !c->o->location)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "give the name, --vault, --key, --identity NAME (a user-assigned "
		                "identity, created when missing) and --location",
		                "%s needs %s NAME, the key, the identity and the region", cmd, opt);
	rc = cmk_load_vault(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	c->kind = kind;
	c->resource_id = cmk_resource_id(c, name, provider);
	if (!c->resource_id)
		return CMK_EXIT_USAGE;
	cJSON_AddStringToObject(c->result, "resource", c->resource_id);
	rc = cmk_arm_get_optional(c, c->resource_id, api, &found, "read the resource");
	if (rc != CMK_EXIT_OK)
		return rc;
	if (found) {
		cJSON_Delete(found);
		free(c->resource_id);
		c->resource_id = NULL;
		/* The resource's own identity is read from it, not --identity (a name). */
		c->o->identity = NULL;
		return existing(c, name, identity);
	}
	if (kind == CMK_RES_WORKSPACE && c->o->storage) {
		storage_id = cmk_resource_id(c, c->o->storage, CMK_PROVIDER_STORAGE);
		if (!storage_id)
			return CMK_EXIT_USAGE;
	}
	rc = pick_version(c, &version);
	if (rc == CMK_EXIT_OK)
		rc = uai_load(c, &u);
	if (rc == CMK_EXIT_OK && !u.exists)
		uai_plan(c, &u);
	if (rc == CMK_EXIT_OK)
		rc = rules_before(c, name, &u, version);
	if (rc == CMK_EXIT_OK && !u.exists) {
		rc = uai_create(c, &u);
		/* A new identity is in the caller's tenant; it must be the vault's. */
		if (rc == CMK_EXIT_OK && u.tenant && cmk_str(c->vault, "properties.tenantId") &&
		    strcasecmp(u.tenant, cmk_str(c->vault, "properties.tenantId")) != 0)
			rc = cmk_fail(
			        c, CMK_EXIT_REFUSED,
			        "use a key vault in the identity's tenant; delete the identity "
			        "if it is not needed",
			        "the new identity %s is in tenant %s, the vault in %s", u.id,
			        u.tenant, cmk_str(c->vault, "properties.tenantId"));
	}
	id = cJSON_AddObjectToObject(c->result, "identity");
	cJSON_AddStringToObject(id, "id", u.id ? u.id : "");
	cJSON_AddStringToObject(id, "principalId", u.principal ? u.principal : "");
	cJSON_AddStringToObject(id, "clientId", u.client ? u.client : "");
	if (rc == CMK_EXIT_OK)
		rc = cmk_grant_principal(c, u.principal);
	if (rc == CMK_EXIT_OK) {
		body = kind == CMK_RES_ACCOUNT ? account_body(c, name, &u, version)
		                               : hub_body(c, name, &u, version, storage_id);
		/* Foundry keeps the version current at binding (bind.c). */
		cmk_say(c, "Creating %s with key %s%s%s in %s and identity %s\n", c->resource_id,
		        c->o->key,
		        version ? " version "
		                : " without a version (Foundry keeps the version current now and "
		                  "does not follow new ones: azkv-cmk follow after each rotation)",
		        version ? version : "", c->vault_uri, u.id);
		rc = cmk_arm_change(c, "PUT", c->resource_id, api, body, 1, &resp,
		                    kind == CMK_RES_ACCOUNT ? "create the Foundry resource"
		                                            : "create the hub");
	}
	if (rc == CMK_EXIT_OK && !c->o->dry_run) {
		if (kind == CMK_RES_ACCOUNT)
			c->o->account = name;
		else
			c->o->workspace = name;
		c->o->identity = NULL;
		rc = cmk_verify_binding(c, version);
		if (rc == CMK_EXIT_OK)
			cmk_say(c, "Created: %s uses key %s in %s through %s.\n", c->resource_id,
			        c->o->key, c->vault_uri,
			        c->have_ident ? c->ident.label : "its identity");
	}
	cJSON_AddBoolToObject(c->result, "changed", c->changes > 0 && !c->o->dry_run);
	cJSON_Delete(body);
	cJSON_Delete(resp);
	free(version);
	free(storage_id);
	uai_free(&u);
	return rc;
}

int cmk_cmd_create_account(cmk_ctx *c)
{
	return create(c, CMK_RES_ACCOUNT, "--account", c->o->account);
}

int cmk_cmd_create_hub(cmk_ctx *c)
{
	return create(c, CMK_RES_WORKSPACE, "--hub", c->o->hub);
}
