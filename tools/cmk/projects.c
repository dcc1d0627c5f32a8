/* azkv-cmk: Foundry projects (Microsoft.CognitiveServices/accounts/{a}/
 * projects/{p}, api-version 2025-06-01 as for accounts).
 *
 * A project has a managed identity of its own, and that is the identity
 * Foundry's reference says to grant:
 *   foundry-cmk-reference.txt, "Use customer-managed keys with Azure Key
 *   Vault": "You must grant your Foundry project system-assigned managed
 *   identity the following permissions on your key vault: get key, wrap
 *   key, unwrap key."
 * So --project NAME (with --account) makes check, grant, status and revoke
 * judge, grant and revoke the project's identity (system-assigned, or the
 * user-assigned one --identity names). The key and its binding stay the
 * account's: a project has no encryption of its own (bind takes no
 * --project). status --account without --project lists every project of
 * the account, its identity and whether that identity holds the grant;
 * one that does not is drift. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

/* The projectName constraint of the REST spec (@azure/arm-cognitiveservices
 * 8.1.0): 2-64 characters, ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$. */
static int project_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 2 || n > 64 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789") == 0)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int cmk_projects_check_options(cmk_ctx *c)
{
	const cmk_opts *o = c->o;

	if (!o->project)
		return CMK_EXIT_OK;
	if (!o->account)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "name its Foundry resource too: --account NAME --project NAME (a "
		                "hub's project is a workspace: --workspace PROJECT)",
		                "--project needs --account: a Foundry project lives in a Foundry "
		                "resource");
	if (o->principal)
		return cmk_fail(c, CMK_EXIT_USAGE, "name one of them",
		                "--project and --principal name two different identities");
	if (!project_name_ok(o->project))
		return cmk_fail(
		        c, CMK_EXIT_USAGE,
		        "a project name is 2-64 letters, digits, '_', '.' and '-', starting "
		        "with a letter or digit",
		        "--project \"%s\" is not a valid project name", o->project);
	return CMK_EXIT_OK;
}

/* The project's identity: want (NULL or "system": the system-assigned
 * one; else a user-assigned one by ARM id, client id or principal id).
 * Fills id and returns 1, or 0 when the project has none such. */
static int project_identity(const cJSON *project, const char *want, cmk_identity *id)
{
	const cJSON *ua;

	memset(id, 0, sizeof(*id));
	if (!want || strcasecmp(want, "system") == 0) {
		const char *pid = cmk_str(project, "identity.principalId");

		if (!pid)
			return 0;
		id->principal_id = strdup(pid);
	} else {
		/* userAssignedIdentities is an object keyed by ARM id: an item
		 * without a key (an array, from a faulty answer) is no identity. */
		cJSON_ArrayForEach(ua, cmk_item(project, "identity.userAssignedIdentities"))
		{
			const char *cid = cmk_str(ua, "clientId"),
			           *pid = cmk_str(ua, "principalId");

			if (ua->string && pid &&
			    (strcasecmp(ua->string, want) == 0 ||
			     (cid && strcasecmp(cid, want) == 0) || strcasecmp(pid, want) == 0)) {
				id->user_assigned = 1;
				id->principal_id = strdup(pid);
				id->client_id = cid ? strdup(cid) : NULL;
				id->resource_id = strdup(ua->string);
				break;
			}
		}
		if (!id->principal_id)
			return 0;
	}
	if (cmk_str(project, "identity.tenantId"))
		id->tenant_id = strdup(cmk_str(project, "identity.tenantId"));
	return 1;
}

static char *project_id(const cmk_ctx *c, const char *name)
{
	size_t len = strlen(c->resource_id) + strlen(name) + 16;
	char *id = malloc(len);

	if (id)
		snprintf(id, len, "%s/projects/%s", c->resource_id, name);
	return id;
}

/* How to give project `name` (ARM id `id`) a system-assigned identity and
 * then grant it (az rest takes an ARM id for a URL). */
static void identity_fix(const cmk_ctx *c, const char *id, const char *name, char *buf, size_t n)
{
	snprintf(buf, n,
	         "turn on its system-assigned identity: az rest --method patch --url '%s?api-"
	         "version=2025-06-01' --body '{\"identity\": {\"type\": \"SystemAssigned\"}}', "
	         "then azkv-cmk grant --vault %s --key %s --account %s --project %s",
	         id, c->o->vault ? c->o->vault : "VAULT", c->o->key ? c->o->key : "KEY",
	         c->o->account, name);
}

/* A project without a system-assigned identity and no --identity: its one
 * user-assigned identity (into id); several: which one is the user's
 * choice (usage error); none: id stays empty. */
static int only_user_assigned(cmk_ctx *c, const cJSON *project, cmk_identity *id)
{
	const cJSON *ua, *only = NULL;
	int n = 0;

	cJSON_ArrayForEach(ua, cmk_item(project, "identity.userAssignedIdentities"))
	{
		if (ua->string && cmk_str(ua, "principalId")) {
			only = ua;
			n++;
		}
	}
	if (n > 1)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "name the one to judge: --identity ARM_ID (azkv-cmk status "
		                "--account ACCOUNT lists them)",
		                "project %s has no system-assigned identity and %d user-assigned "
		                "ones",
		                c->o->project, n);
	if (only)
		project_identity(project, only->string, id);
	return CMK_EXIT_OK;
}

int cmk_project_load(cmk_ctx *c)
{
	char fix[1024], label[512];
	char *id = project_id(c, c->o->project);
	cJSON *project = NULL;
	int rc;

	if (!id)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	snprintf(fix, sizeof(fix),
	         "check the name; azkv-cmk status --account %s lists the account's projects",
	         c->o->account);
	rc = cmk_arm_get(c, id, CMK_API_COGNITIVE, &project, "read the Foundry project", fix);
	if (rc == CMK_EXIT_OK) {
		cJSON_AddStringToObject(c->result, "project", id);
		cmk_identity_free(&c->ident);
		c->have_ident = project_identity(project, c->o->identity, &c->ident);
		if (!c->have_ident && !c->o->identity) {
			rc = only_user_assigned(c, project, &c->ident);
			c->have_ident = rc == CMK_EXIT_OK && c->ident.principal_id;
		}
		if (rc == CMK_EXIT_OK && !c->have_ident && c->o->identity &&
		    strcasecmp(c->o->identity, "system") != 0) {
			rc = cmk_fail(
			        c, CMK_EXIT_NOT_FOUND,
			        "give the project that identity first, or leave out --identity "
			        "(the project's system-assigned identity)",
			        "project %s has no user-assigned identity \"%s\"", c->o->project,
			        c->o->identity);
		} else if (rc == CMK_EXIT_OK && !c->have_ident) {
			/* foundry-cmk-reference.txt (above): the project's identity is
			 * what must hold the grant; without one there is nothing to judge. */
			identity_fix(c, id, c->o->project, fix, sizeof(fix));
			rc = cmk_fail(
			        c, CMK_EXIT_REFUSED, fix,
			        "project %s of %s has no managed identity: Foundry's reference "
			        "says to grant the project's system-assigned identity",
			        c->o->project, c->o->account);
		}
	}
	if (rc == CMK_EXIT_OK) {
		if (c->ident.user_assigned)
			snprintf(label, sizeof(label),
			         "user-assigned identity %s (principal %s) of project %s",
			         c->ident.resource_id, c->ident.principal_id, c->o->project);
		else
			snprintf(label, sizeof(label),
			         "system-assigned identity of project %s (principal %s)",
			         c->o->project, c->ident.principal_id);
		c->ident.label = strdup(label);
	}
	cJSON_Delete(project);
	free(id);
	return rc;
}

/* ---- status --account: every project's identity and grant ------------ */

/* One identity of a project: does it hold the grant? Adds it to out.
 * Grants that cannot be read: "holdsGrant": null, said, no drift, and the
 * read's exit code. */
static int judge_identity(cmk_ctx *c, const char *project, const cmk_identity *id, cJSON *out,
                          cJSON *drift)
{
	cJSON *o = cJSON_CreateObject();
	cmk_grants gs;
	char fix[768];
	int holds, rc;

	rc = cmk_grants_load(c, id->principal_id, &gs);
	holds = rc == CMK_EXIT_OK && gs.has_access;
	cmk_grants_free(&gs);
	cJSON_AddStringToObject(o, "type", id->user_assigned ? "UserAssigned" : "SystemAssigned");
	cJSON_AddStringToObject(o, "principalId", id->principal_id);
	if (id->resource_id)
		cJSON_AddStringToObject(o, "resourceId", id->resource_id);
	if (rc != CMK_EXIT_OK)
		cJSON_AddNullToObject(o, "holdsGrant");
	else
		cJSON_AddBoolToObject(o, "holdsGrant", holds);
	cJSON_AddItemToArray(out, o);
	if (!c->o->json)
		cmk_print(stdout, "    %s identity%s%s (principal %s): %s\n",
		          id->user_assigned ? "user-assigned" : "system-assigned",
		          id->user_assigned ? " " : "", id->user_assigned ? id->resource_id : "",
		          id->principal_id,
		          rc != CMK_EXIT_OK ? "unknown (its grants could not be read)"
		          : holds           ? "holds the grant (get, wrapKey, unwrapKey)"
		                            : "LACKS the grant");
	if (rc != CMK_EXIT_OK || holds)
		return rc;
	snprintf(fix, sizeof(fix),
	         "azkv-cmk grant --vault %s --key %s --account %s --project %s%s%s", c->o->vault,
	         c->o->key, c->o->account, project, id->user_assigned ? " --identity " : "",
	         id->user_assigned ? id->resource_id : "");
	cmk_drift(drift, "project.grant-missing", fix,
	          "project %s's %s identity (principal %s) cannot use the key", project,
	          id->user_assigned ? "user-assigned" : "system-assigned", id->principal_id);
	return CMK_EXIT_OK;
}

/* One project and its identities; the first failed read's exit code. */
static int list_project(cmk_ctx *c, const cJSON *p, cJSON *arr, cJSON *drift)
{
	const char *name = cmk_str(p, "name");
	cJSON *o = cJSON_CreateObject(), *ids;
	const cJSON *ua;
	cmk_identity id;
	char fix[1024];
	int any = 0, rc = CMK_EXIT_OK, one;

	if (!name)
		name = "?";
	cJSON_AddStringToObject(o, "name", name);
	if (cmk_str(p, "id"))
		cJSON_AddStringToObject(o, "id", cmk_str(p, "id"));
	cJSON_AddBoolToObject(o, "isDefault", cmk_bool(p, "properties.isDefault", 0));
	ids = cJSON_AddArrayToObject(o, "identities");
	cJSON_AddItemToArray(arr, o);
	if (!c->o->json)
		cmk_print(stdout, "  %s%s\n", name,
		          cmk_bool(p, "properties.isDefault", 0) ? " (default)" : "");
	if (project_identity(p, NULL, &id)) {
		rc = judge_identity(c, name, &id, ids, drift);
		cmk_identity_free(&id);
		any = 1;
	}
	cJSON_ArrayForEach(ua, cmk_item(p, "identity.userAssignedIdentities"))
	{
		if (ua->string && project_identity(p, ua->string, &id)) {
			one = judge_identity(c, name, &id, ids, drift);
			rc = rc ? rc : one;
			cmk_identity_free(&id);
			any = 1;
		}
	}
	if (any)
		return rc;
	if (!c->o->json)
		cmk_print(stdout, "    no managed identity\n");
	/* foundry-cmk-reference.txt, "Use customer-managed keys with Azure Key
	 * Vault": the project's system-assigned identity must be granted. */
	identity_fix(c, cmk_str(p, "id") ? cmk_str(p, "id") : name, name, fix, sizeof(fix));
	cmk_drift(drift, "project.identity-missing", fix,
	          "project %s has no managed identity to grant", name);
	return CMK_EXIT_OK;
}

int cmk_projects_status(cmk_ctx *c, cJSON *drift)
{
	char *path;
	cJSON *list = NULL, *arr;
	const cJSON *p;
	int rc, one;

	if (c->kind != CMK_RES_ACCOUNT || c->o->project || !c->resource_id)
		return CMK_EXIT_OK;
	/* An account that does not allow project management has none (the
	 * account's allowProjectManagement, REST spec stable/2025-06-01): no
	 * list to read, and no failure to report for it. */
	if (!cmk_bool(c->resource, "properties.allowProjectManagement", 0) &&
	    !cJSON_GetArraySize(cmk_item(c->resource, "properties.associatedProjects"))) {
		cJSON_AddArrayToObject(c->result, "projects");
		if (!c->o->json)
			cmk_print(stdout,
			          "Projects of %s: none (it does not allow project "
			          "management)\n",
			          c->o->account);
		return CMK_EXIT_OK;
	}
	path = project_id(c, "");
	if (!path)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	path[strlen(path) - 1] = '\0'; /* ".../projects" */
	rc = cmk_arm_list(c, path, CMK_API_COGNITIVE, &list, "list the account's projects");
	if (rc != CMK_EXIT_OK) {
		free(path);
		return rc;
	}
	arr = cJSON_AddArrayToObject(c->result, "projects");
	if (!c->o->json)
		cmk_print(stdout, "Projects of %s (each identity must hold the grant):%s\n",
		          c->o->account, cJSON_GetArraySize(list) ? "" : " none");
	cJSON_ArrayForEach(p, list)
	{
		one = list_project(c, p, arr, drift);
		rc = rc ? rc : one;
	}
	cJSON_Delete(list);
	free(path);
	return rc;
}
