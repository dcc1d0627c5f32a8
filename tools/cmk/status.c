/* azkv-cmk status: what the resource is bound to, the key's versions and
 * rotation policy, the identity's grants, and the drift between them:
 * bound version not the current one, bound version disabled or expired,
 * grant missing, over-broad grants, a version expiring soon; and the older
 * versions that may still protect data (older_versions.c). Exit 1 when
 * there is drift; a part that cannot be read: that read's exit code.
 * Reads only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmk.h"

void cmk_drift(cJSON *drift, const char *id, const char *fix, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *o = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "message", msg);
	if (fix)
		cJSON_AddStringToObject(o, "fix", fix);
	cJSON_AddItemToArray(drift, o);
}

static void print_drift(const cJSON *drift)
{
	const cJSON *o;

	cmk_print(stdout, "Drift:\n");
	cJSON_ArrayForEach(o, drift)
	{
		cmk_print(stdout, "  - %s\n", cmk_str(o, "message"));
		if (cmk_str(o, "fix"))
			cmk_print(stdout, "    fix: %s\n", cmk_str(o, "fix"));
	}
	if (cJSON_GetArraySize(drift) == 0)
		cmk_print(stdout, "  none\n");
}

static int same_key(const cmk_ctx *c)
{
	return c->binding.vault_uri && c->binding.key_name &&
	       strcasecmp(c->binding.vault_uri, c->vault_uri) == 0 &&
	       strcasecmp(c->binding.key_name, c->o->key) == 0;
}

static int by_created_desc(const void *a, const void *b)
{
	const azkv_key_item *x = a, *y = b;

	return (x->created < y->created) - (x->created > y->created);
}

static void fmt_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm))
		snprintf(buf, n, "-");
	else
		strftime(buf, n, "%Y-%m-%d", &tm);
}

/* The key's versions, listed and judged; kept for the older versions
 * (owned: azkv_key_items_free(*items_out, *n_out)). */
static int show_versions(cmk_ctx *c, cJSON *drift, const char *bound, char **current,
                         azkv_key_item **items_out, size_t *n_out)
{
	azkv_key_item *items = NULL;
	size_t n = 0;
	azkv_err err;
	int64_t now = (int64_t)time(NULL);
	cJSON *arr;
	azkv_key latest;

	azkv_err_clear(&err);
	if (azkv_kv_list_key_versions(c->kv, c->o->key, &items, &n, &err) != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, "list the key's versions");
	qsort(items, n, sizeof(*items), by_created_desc);
	/* The vault says which version is current; creation times have one-
	 * second resolution and may tie. It goes first. */
	if (azkv_kv_get_key(c->kv, c->o->key, NULL, &latest, &err) != AZKV_OK) {
		azkv_key_items_free(items, n);
		return cmk_fail_err(c, &err, NULL, "read the key");
	}
	for (size_t i = 1; i < n; i++) {
		if (items[i].version && strcmp(items[i].version, latest.version) == 0) {
			azkv_key_item cur = items[i];

			memmove(&items[1], &items[0], i * sizeof(*items));
			items[0] = cur;
		}
	}
	azkv_key_free(&latest);
	arr = cJSON_AddArrayToObject(c->result, "versions");
	if (!c->o->json)
		cmk_print(stdout, "Key %s in %s: %zu version(s), current first, then newest\n",
		          c->o->key, c->vault_uri, n);
	for (size_t i = 0; i < n; i++) {
		azkv_key_item *it = &items[i];
		char created[32], expires[32];
		cJSON *o = cJSON_CreateObject();
		int is_bound = bound && it->version && strcmp(bound, it->version) == 0;

		fmt_time(it->created, created, sizeof(created));
		fmt_time(it->exp, expires, sizeof(expires));
		cJSON_AddStringToObject(o, "version", it->version ? it->version : "");
		cJSON_AddBoolToObject(o, "current", i == 0);
		cJSON_AddBoolToObject(o, "enabled", it->enabled);
		cJSON_AddBoolToObject(o, "bound", is_bound);
		if (it->exp)
			cJSON_AddNumberToObject(o, "expires", (double)it->exp);
		cJSON_AddItemToArray(arr, o);
		if (!c->o->json)
			cmk_print(stdout, "  %s  created %s  expires %-10s  %s%s%s\n", it->version,
			          created, expires, it->enabled ? "enabled" : "DISABLED",
			          i == 0 ? "  current" : "", is_bound ? "  <- bound" : "");
		if (i == 0 && it->version)
			*current = strdup(it->version);
		if ((is_bound || (i == 0 && !bound)) && it->enabled && it->exp && it->exp > now &&
		    it->exp - now < (int64_t)c->o->expiring_days * 86400)
			cmk_drift(drift, "key.expiring", "azkv-cmk rotate ...",
			          "version %s expires in %lld days", it->version,
			          (long long)((it->exp - now) / 86400));
		if (is_bound && !it->enabled)
			cmk_drift(
			        drift, "binding.version-disabled",
			        "enable it, or rotate: azkv-cmk rotate ...",
			        "the bound version %s is disabled: the resource cannot use its key",
			        it->version);
		if (is_bound && it->exp && it->exp <= now)
			cmk_drift(drift, "binding.version-expired", "azkv-cmk rotate ...",
			          "the bound version %s has expired", it->version);
	}
	*items_out = items;
	*n_out = n;
	return CMK_EXIT_OK;
}

static void show_policy(cmk_ctx *c)
{
	cJSON *policy = NULL;
	azkv_err err;

	if (cmk_fetch_rotation_policy(c, &policy, &err) != AZKV_OK) {
		if (!c->o->json)
			cmk_print(stdout, "Rotation policy: cannot read it (%s)\n", err.message);
		return;
	}
	if (!c->o->json)
		cmk_print_rotation_policy(policy);
	cJSON_AddItemToObject(c->result, "rotationPolicy", policy);
}

/* The identity's grants, and what the analysis cannot see of them; the
 * exit code of a failed read (said, and no grant drift judged). */
static int show_grants(cmk_ctx *c, cJSON *drift)
{
	const char *principal = cmk_principal(c);
	char fix[512];
	cmk_grants gs;
	int rc;

	if (!principal)
		return CMK_EXIT_OK;
	rc = cmk_grants_load(c, principal, &gs);
	if (rc != CMK_EXIT_OK) {
		cmk_unseen_grant_status(c, NULL); /* rules_unseen.c */
		return rc;
	}
	if (!c->o->json) {
		cmk_print(stdout, "Grants of %s:\n", c->have_ident ? c->ident.label : principal);
		for (size_t i = 0; i < gs.n; i++) {
			char perms[256] = "keys:";

			for (size_t k = 0; k < gs.g[i].n_perms; k++) {
				size_t len = strlen(perms);

				snprintf(perms + len, sizeof(perms) - len, " %s", gs.g[i].perms[k]);
			}
			cmk_print(stdout, "  %s %s at %s%s%s%s\n", gs.g[i].via,
			          gs.g[i].role_name ? gs.g[i].role_name : perms, gs.g[i].scope,
			          gs.g[i].covers ? "" : " [not enough for Foundry]",
			          gs.g[i].broader ? " [over-broad]" : "",
			          gs.g[i].effective ? "" : " [ignored by the vault's model]");
		}
		if (gs.n == 0)
			cmk_print(stdout, "  (none)\n");
	}
	cJSON_AddItemToObject(c->result, "grants", cmk_grants_json(&gs));
	cmk_grant_fix(c, principal, fix, sizeof(fix));
	if (!gs.has_access)
		cmk_drift(drift, "grant.missing", fix,
		          "the identity cannot use the key (get, wrapKey, unwrapKey missing)");
	for (size_t i = 0; i < gs.n; i++) {
		if (gs.g[i].broader && gs.g[i].effective)
			cmk_drift(
			        drift, "grant.over-broad",
			        "keep only \"Key Vault Crypto Service Encryption User\" at the key",
			        "%s %s at %s is broader than Foundry needs", gs.g[i].via,
			        gs.g[i].role_name ? gs.g[i].role_name : "policy", gs.g[i].scope);
	}
	cmk_unseen_grant_status(c, &gs); /* rules_unseen.c */
	cmk_grants_free(&gs);
	return CMK_EXIT_OK;
}

static void show_binding(cmk_ctx *c)
{
	const cmk_binding *b = &c->binding;
	cJSON *o = cJSON_AddObjectToObject(c->result, "binding");

	cJSON_AddBoolToObject(o, "customerManagedKey", b->cmk);
	if (b->vault_uri)
		cJSON_AddStringToObject(o, "vaultUri", b->vault_uri);
	if (b->key_name)
		cJSON_AddStringToObject(o, "keyName", b->key_name);
	cJSON_AddStringToObject(o, "keyVersion", b->key_version ? b->key_version : "");
	if (c->have_ident)
		cJSON_AddStringToObject(o, "identity", c->ident.principal_id);
	if (c->o->json)
		return;
	cmk_print(stdout, "Resource %s\n", c->resource_id);
	if (!b->cmk)
		cmk_print(stdout, "  encryption: Microsoft-managed keys\n");
	else
		cmk_print(stdout, "  encryption: customer-managed key %s/keys/%s, %s%s\n",
		          b->vault_uri, b->key_name,
		          b->key_version ? "version " : "no version (the one current when bound)",
		          b->key_version ? b->key_version : "");
	cmk_print(stdout, "  identity: %s\n", c->have_ident ? c->ident.label : "(none)");
}

int cmk_cmd_status(cmk_ctx *c)
{
	cJSON *drift;
	char *current = NULL;
	const char *bound = NULL;
	azkv_key_item *items = NULL;
	size_t n_items = 0;
	int rc;

	rc = cmk_load_resource(c);
	if (rc == CMK_EXIT_OK)
		rc = cmk_targets_from_binding(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (!c->o->key)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --key NAME (and --vault)",
		                "status needs the key, or a resource bound to one");
	rc = cmk_load_vault(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	drift = cJSON_CreateArray();
	if (c->resource) {
		show_binding(c);
		cmk_hub_status(c);
		if (c->binding.cmk && same_key(c))
			bound = c->binding.key_version;
	}
	rc = show_versions(c, drift, bound, &current, &items, &n_items);
	if (rc == CMK_EXIT_OK) {
		/* A part that cannot be read is said and the others still shown;
		 * the exit code is then the first such failure's, never 0 or 1
		 * (a report that could not look is neither clean nor drift). */
		int part, unread;

		if (c->resource && !c->binding.cmk)
			cmk_drift(drift, "binding.none", "azkv-cmk bind ...",
			          "the resource does not use a customer-managed key");
		else if (c->resource && !same_key(c))
			cmk_drift(drift, "binding.other-key", NULL,
			          "the resource is bound to %s/keys/%s, not to this key",
			          c->binding.vault_uri, c->binding.key_name);
		else if (bound && current && strcmp(bound, current) != 0)
			cmk_drift(
			        drift, "binding.not-current",
			        "azkv-cmk follow (Foundry does not follow new versions by itself)",
			        "the resource is bound to version %s, but the current version is "
			        "%s",
			        bound, current);
		cmk_status_older_data(c, drift, bound, c->resource && c->binding.cmk && same_key(c),
		                      items, n_items, current);
		azkv_key_items_free(items, n_items);
		unread = show_grants(c, drift);
		part = cmk_projects_status(c, drift);
		unread = unread ? unread : part;
		show_policy(c);
		cmk_monitoring_status(c);
		if (!c->o->json)
			print_drift(drift);
		rc = unread;
	}
	cJSON_AddItemToObject(c->result, "drift", drift);
	free(current);
	if (rc != CMK_EXIT_OK)
		return rc;
	return cJSON_GetArraySize(drift) ? CMK_EXIT_FINDINGS : CMK_EXIT_OK;
}
