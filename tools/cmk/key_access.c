/* azkv-cmk: who can use the key (for check, grant, revoke and status). A
 * principal's grants are its role assignments at the key's scope and
 * above (Azure RBAC) and its access policy on the vault; only one of the
 * two counts, by the vault's permission model. Each grant is judged: does it give get, wrapKey and
 * unwrapKey on the key (what Foundry needs), and does it give more than
 * that, or at a wider scope than the key (what least privilege forbids)? */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

/* The data actions Foundry needs, and ones that mean "more than that". */
static const char *const needed_actions[] = {
        "Microsoft.KeyVault/vaults/keys/read",
        "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action",
};
static const char *const other_actions[] = {
        "Microsoft.KeyVault/vaults/keys/decrypt/action",
        "Microsoft.KeyVault/vaults/keys/encrypt/action",
        "Microsoft.KeyVault/vaults/keys/sign/action",
        "Microsoft.KeyVault/vaults/keys/create/action",
        "Microsoft.KeyVault/vaults/keys/delete",
        "Microsoft.KeyVault/vaults/keys/update/action",
        "Microsoft.KeyVault/vaults/keys/backup/action",
        "Microsoft.KeyVault/vaults/keys/release/action",
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/keyrotationpolicies/write",
};

int cmk_vault_uses_rbac(const cmk_ctx *c)
{
	return cmk_bool(c->vault, "properties.enableRbacAuthorization", 0);
}

/* Does a role's permission block allow action? (wildcards, case-insensitive,
 * notDataActions subtracted) */
static int role_allows(const cJSON *role, const char *action)
{
	const cJSON *perms = cmk_item(role, "properties.permissions");
	const cJSON *p, *a;
	int allowed = 0;

	cJSON_ArrayForEach(p, perms)
	{
		int here = 0;

		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(p, "dataActions"))
		{
			if (cJSON_IsString(a) && fnmatch(a->valuestring, action, FNM_CASEFOLD) == 0)
				here = 1;
		}
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(p, "notDataActions"))
		{
			if (cJSON_IsString(a) && fnmatch(a->valuestring, action, FNM_CASEFOLD) == 0)
				here = 0;
		}
		allowed |= here;
	}
	return allowed;
}

static void grant_free(cmk_grant *g)
{
	free(g->via);
	free(g->role_id);
	free(g->role_name);
	free(g->scope);
	free(g->assignment_id);
	for (size_t i = 0; i < g->n_perms; i++)
		free(g->perms[i]);
	free(g->perms);
	free(g->detail);
	free(g->condition);
}

void cmk_grants_free(cmk_grants *g)
{
	for (size_t i = 0; i < g->n; i++)
		grant_free(&g->g[i]);
	free(g->g);
	memset(g, 0, sizeof(*g));
}

static cmk_grant *grant_add(cmk_grants *gs)
{
	cmk_grant *n = realloc(gs->g, (gs->n + 1) * sizeof(*n));

	if (!n)
		return NULL;
	gs->g = n;
	memset(&n[gs->n], 0, sizeof(*n));
	return &n[gs->n++];
}

/* One role assignment of the principal. */
static int judge_assignment(cmk_ctx *c, const cJSON *a, const char *key_scope, cmk_grants *gs)
{
	const char *def_id = cmk_str(a, "properties.roleDefinitionId");
	const char *scope = cmk_str(a, "properties.scope");
	char detail[1024] = "";
	cJSON *role = NULL;
	cmk_grant *g;
	int rc, covers = 1, extra = 0, any = 0;

	if (!def_id || !scope)
		return CMK_EXIT_OK;
	rc = cmk_arm_get(c, def_id, CMK_API_AUTHZ, &role, "read a role definition", NULL);
	if (rc != CMK_EXIT_OK)
		return rc;
	for (size_t i = 0; i < sizeof(needed_actions) / sizeof(*needed_actions); i++) {
		int ok = role_allows(role, needed_actions[i]);

		covers &= ok;
		any |= ok;
	}
	for (size_t i = 0; i < sizeof(other_actions) / sizeof(*other_actions); i++) {
		if (role_allows(role, other_actions[i])) {
			size_t len = strlen(detail);
			const char *short_name =
			        other_actions[i] + strlen("Microsoft.KeyVault/vaults/");

			snprintf(detail + len, sizeof(detail) - len, "%s%s", extra ? ", " : "also ",
			         short_name);
			extra = 1;
			any = 1;
		}
	}
	if (!any) {
		/* A control-plane role (Owner, Reader...): no key access from it. */
		cJSON_Delete(role);
		return CMK_EXIT_OK;
	}
	g = grant_add(gs);
	if (!g) {
		cJSON_Delete(role);
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	}
	g->via = strdup("rbac");
	g->role_id = strdup(strrchr(def_id, '/') ? strrchr(def_id, '/') + 1 : def_id);
	g->role_name =
	        strdup(cmk_str(role, "properties.roleName") ? cmk_str(role, "properties.roleName")
	                                                    : g->role_id);
	g->scope = strdup(scope);
	g->assignment_id = cmk_str(a, "id") ? strdup(cmk_str(a, "id")) : NULL;
	g->condition = cmk_str(a, "properties.condition")
	                       ? strdup(cmk_str(a, "properties.condition"))
	                       : NULL;
	g->covers = covers;
	g->effective = cmk_vault_uses_rbac(c);
	if (strcasecmp(scope, key_scope) != 0) {
		size_t len = strlen(detail);

		snprintf(detail + len, sizeof(detail) - len, "%sat %s scope, wider than the key",
		         extra ? "; " : "",
		         strcasecmp(scope, c->vault_id) == 0 ? "vault"
		                                             : "resource group/subscription");
		extra = 1;
	}
	g->broader = extra;
	g->detail = extra ? strdup(detail) : NULL;
	cJSON_Delete(role);
	return CMK_EXIT_OK;
}

static int has_perm(const cJSON *list, const char *perm)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, list)
	{
		if (cJSON_IsString(p) && (strcasecmp(p->valuestring, perm) == 0 ||
		                          strcasecmp(p->valuestring, "all") == 0))
			return 1;
	}
	return 0;
}

static int judge_policy(cmk_ctx *c, const cJSON *pol, cmk_grants *gs)
{
	const cJSON *keys = cmk_item(pol, "permissions.keys");
	const cJSON *p;
	char detail[1024] = "";
	cmk_grant *g = grant_add(gs);
	int extra = 0;

	if (!g)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	g->via = strdup("access-policy");
	g->scope = strdup(c->vault_id);
	cJSON_ArrayForEach(p, keys)
	{
		char **n;

		if (!cJSON_IsString(p))
			continue;
		n = realloc(g->perms, (g->n_perms + 1) * sizeof(*n));
		if (!n)
			return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
		g->perms = n;
		g->perms[g->n_perms++] = strdup(p->valuestring);
		if (strcasecmp(p->valuestring, "get") != 0 &&
		    strcasecmp(p->valuestring, "wrapKey") != 0 &&
		    strcasecmp(p->valuestring, "unwrapKey") != 0) {
			size_t len = strlen(detail);

			snprintf(detail + len, sizeof(detail) - len, "%s%s",
			         extra ? ", " : "also keys: ", p->valuestring);
			extra = 1;
		}
	}
	for (const char *grp = "secrets"; grp;
	     grp = strcmp(grp, "secrets") == 0 ? "certificates" : NULL) {
		char path[64];
		const cJSON *list;

		snprintf(path, sizeof(path), "permissions.%s", grp);
		list = cmk_item(pol, path);
		if (cJSON_GetArraySize(list) > 0) {
			size_t len = strlen(detail);

			snprintf(detail + len, sizeof(detail) - len, "%s%s permissions",
			         extra ? "; " : "", grp);
			extra = 1;
		}
	}
	g->covers =
	        has_perm(keys, "get") && has_perm(keys, "wrapKey") && has_perm(keys, "unwrapKey");
	g->broader = extra;
	g->detail = extra ? strdup(detail) : NULL;
	g->effective = !cmk_vault_uses_rbac(c);
	return CMK_EXIT_OK;
}

int cmk_grants_load(cmk_ctx *c, const char *principal, cmk_grants *out)
{
	char *scope = cmk_key_scope(c), *path = NULL;
	const cJSON *a, *pol;
	cJSON *list = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!scope)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	/* The principal goes into an OData $filter: a GUID and nothing else
	 * (it may come from an ARM answer: the resource's identity). */
	if (!cmk_is_guid(principal)) {
		free(scope);
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL,
		                "the identity's principal id \"%s\" is not a GUID", principal);
	}
	/* Assignments at the key's scope and every scope above it. */
	len = strlen(scope) + strlen(principal) + 128;
	path = malloc(len);
	if (!path) {
		free(scope);
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	}
	snprintf(path, len,
	         "%s/providers/Microsoft.Authorization/"
	         "roleAssignments?$filter=principalId%%20eq%%20'%s'",
	         scope, principal);
	rc = cmk_arm_list(c, path, CMK_API_AUTHZ, &list, "list the identity's role assignments");
	cJSON_ArrayForEach(a, list)
	{
		const char *pid = cmk_str(a, "properties.principalId");

		if (rc != CMK_EXIT_OK)
			break;
		if (pid && strcasecmp(pid, principal) == 0)
			rc = judge_assignment(c, a, scope, out);
	}
	cJSON_ArrayForEach(pol, cmk_item(c->vault, "properties.accessPolicies"))
	{
		const char *oid = cmk_str(pol, "objectId");

		if (rc != CMK_EXIT_OK)
			break;
		if (oid && strcasecmp(oid, principal) == 0)
			rc = judge_policy(c, pol, out);
	}
	for (size_t i = 0; i < out->n; i++) {
		if (out->g[i].effective && out->g[i].covers)
			out->has_access = 1;
	}
	/* A failed read leaves nothing for the caller to free (or to trust). */
	if (rc != CMK_EXIT_OK)
		cmk_grants_free(out);
	cJSON_Delete(list);
	free(path);
	free(scope);
	return rc;
}

cJSON *cmk_grants_json(const cmk_grants *gs)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < gs->n; i++) {
		const cmk_grant *g = &gs->g[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "via", g->via);
		if (g->role_name)
			cJSON_AddStringToObject(o, "role", g->role_name);
		if (g->role_id)
			cJSON_AddStringToObject(o, "roleDefinitionId", g->role_id);
		cJSON_AddStringToObject(o, "scope", g->scope);
		if (g->assignment_id)
			cJSON_AddStringToObject(o, "id", g->assignment_id);
		if (g->perms)
			cJSON_AddItemToObject(o, "keyPermissions",
			                      cJSON_CreateStringArray((const char *const *)g->perms,
			                                              (int)g->n_perms));
		cJSON_AddBoolToObject(o, "givesGetWrapUnwrap", g->covers);
		cJSON_AddBoolToObject(o, "overBroad", g->broader);
		cJSON_AddBoolToObject(o, "effective", g->effective);
		if (g->detail)
			cJSON_AddStringToObject(o, "why", g->detail);
		if (g->condition)
			cJSON_AddStringToObject(o, "condition", g->condition);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void cmk_grant_fix(const cmk_ctx *c, const char *principal, char *buf, size_t n)
{
	const char *opt = c->o->account     ? "--account"
	                  : c->o->workspace ? "--workspace"
	                                    : "--principal";
	const char *who = c->o->account     ? c->o->account
	                  : c->o->workspace ? c->o->workspace
	                                    : principal;

	snprintf(buf, n, "azkv-cmk grant --vault %s --key %s %s %s%s%s", c->o->vault, c->o->key,
	         opt, who, c->o->project ? " --project " : "", c->o->project ? c->o->project : "");
}

/* The vault, the resource (or --principal), the principal. */
int cmk_load_grant_targets(cmk_ctx *c, const char **principal)
{
	int rc;

	if (!c->o->key)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --key NAME", "%s needs the key",
		                c->o->command);
	if (!c->o->account && !c->o->workspace && !c->o->principal)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "name the Foundry resource (--account NAME or --workspace NAME) or "
		                "the identity (--principal OBJECT_ID)",
		                "%s needs to know whose access to change", c->o->command);
	rc = cmk_load_vault(c);
	if (rc == CMK_EXIT_OK)
		rc = cmk_load_resource(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	*principal = cmk_principal(c);
	if (!*principal)
		return cmk_fail(c, CMK_EXIT_REFUSED,
		                c->kind == CMK_RES_ACCOUNT
		                        ? "turn on its system-assigned identity first: az "
		                          "cognitiveservices account identity assign --name NAME "
		                          "--resource-group RG"
		                        : "create the workspace with a managed identity",
		                "%s has no managed identity to grant access to", c->resource_id);
	cJSON_AddStringToObject(c->result, "principalId", *principal);
	return CMK_EXIT_OK;
}

/* An accessPolicies body (PUT .../accessPolicies/add|replace|remove) for
 * principal with perms. */
cJSON *cmk_policy_body(const cmk_ctx *c, const char *principal, const char *const *perms, size_t n)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(cJSON_AddObjectToObject(body, "properties"),
	                                     "accessPolicies");
	cJSON *pol = cJSON_CreateObject();

	cJSON_AddItemToArray(list, pol);
	cJSON_AddStringToObject(pol, "tenantId", cmk_str(c->vault, "properties.tenantId"));
	cJSON_AddStringToObject(pol, "objectId", principal);
	cJSON_AddItemToObject(cJSON_AddObjectToObject(pol, "permissions"), "keys",
	                      cJSON_CreateStringArray(perms, (int)n));
	return body;
}
