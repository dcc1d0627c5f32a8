/* azkv-cmk: the key versions that may still protect data written before a
 * rotation, for status (before anyone disables one) and revoke
 * --disable-key (which names the data it would break).
 *
 * foundry-cmk-reference.txt, "Encryption Key Rotation": "Rotating the key
 * doesn't trigger re-encryption of data in the resource"; "How to Rotate
 * Encryption Keys": "Existing data remains encrypted with the previous key
 * unless reprocessed". foundry-cmk-lab.txt, "Key rotation and management":
 * "Rotation does not re-encrypt existing data." So every version a resource
 * was once bound to keeps the data written while it was bound.
 *
 * Azure keeps no record of past bindings, so this judges from what can be
 * read: a version is counted when it is not the bound one and not newer
 * than it (created no later, and not the vault's current version), i.e. it
 * assumes bindings moved only to newer versions. With a versionless binding
 * the version in use is unknown: every version but the current one counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmk.h"

const char cmk_older_assumption[] =
        "Azure keeps no record of the versions a resource was bound to: counted are the "
        "versions older than the bound one (assuming bindings only moved to newer "
        "versions; with no bound version, every version but the current one), since "
        "rotation does not re-encrypt data written while one was bound";

static const char expired_note[] =
        "expired: Key Vault still unwraps with it; keep it enabled while data written "
        "while it was bound is needed";

/* Moves the versions that may protect older data to the front of items
 * and returns how many they are. current: the vault's current version;
 * bound NULL: a versionless binding. */
static size_t older_first(azkv_key_item *items, size_t n, const char *current, const char *bound)
{
	int64_t bound_created = INT64_MAX;
	size_t kept = 0;

	for (size_t i = 0; bound && i < n; i++) {
		if (items[i].version && strcmp(items[i].version, bound) == 0)
			bound_created = items[i].created;
	}
	for (size_t i = 0; i < n; i++) {
		azkv_key_item *it = &items[i];
		int counted = it->version && current && strcmp(it->version, current) != 0 &&
		              (!bound ||
		               (strcmp(it->version, bound) != 0 && it->created <= bound_created));

		if (counted) {
			azkv_key_item tmp = items[kept];

			items[kept++] = *it;
			*it = tmp;
		}
	}
	return kept;
}

/* The key's versions read from the vault, those that may protect older
 * data first (*kept of them); owned: azkv_key_items_free(*out, *n_out). */
static int older_versions(cmk_ctx *c, const char *bound, azkv_key_item **out, size_t *n_out,
                          size_t *kept_out)
{
	azkv_key_item *items = NULL;
	azkv_key current;
	azkv_err err;
	size_t n = 0;

	*out = NULL;
	*n_out = *kept_out = 0;
	azkv_err_clear(&err);
	if (azkv_kv_list_key_versions(c->kv, c->o->key, &items, &n, &err) != AZKV_OK)
		return cmk_fail_err(c, &err, NULL, "list the key's versions");
	if (azkv_kv_get_key(c->kv, c->o->key, NULL, &current, &err) != AZKV_OK) {
		azkv_key_items_free(items, n);
		return cmk_fail_err(c, &err, NULL, "read the key");
	}
	*kept_out = older_first(items, n, current.version, bound);
	azkv_key_free(&current);
	*out = items;
	*n_out = n;
	return CMK_EXIT_OK;
}

void cmk_status_older_data(cmk_ctx *c, cJSON *drift, const char *bound, int bound_here,
                           azkv_key_item *items, size_t all, const char *current)
{
	size_t n;
	int64_t now = (int64_t)time(NULL);
	cJSON *o, *arr;

	if (!bound_here)
		return;
	if (!bound)
		cmk_drift(drift, "binding.versionless",
		          "azkv-cmk follow (binds the current version, and follows each new one)",
		          "the resource is bound without a key version: Foundry uses the version "
		          "that was current when it was bound and does not follow new ones (which "
		          "version that is, Azure does not report)");
	n = older_first(items, all, current, bound);
	o = cJSON_AddObjectToObject(c->result, "olderVersions");
	cJSON_AddStringToObject(o, "assumption", cmk_older_assumption);
	arr = cJSON_AddArrayToObject(o, "versions");
	if (!c->o->json && n)
		cmk_print(stdout, "Older versions that may still protect data written while they "
		                  "were bound (rotation does not re-encrypt it):\n");
	for (size_t i = 0; i < n; i++) {
		const azkv_key_item *it = &items[i];
		int expired = it->exp && it->exp <= now;
		cJSON *v = cJSON_CreateObject();

		cJSON_AddStringToObject(v, "version", it->version);
		cJSON_AddBoolToObject(v, "enabled", it->enabled);
		cJSON_AddBoolToObject(v, "expired", expired);
		cJSON_AddItemToArray(arr, v);
		if (!c->o->json)
			cmk_print(stdout, "  %s  %s%s\n", it->version,
			          it->enabled ? "enabled" : "DISABLED", expired ? ", expired" : "");
		if (!it->enabled)
			cmk_drift(
			        drift, "data.older-version-disabled",
			        "enable it again if that data is needed (az keyvault key "
			        "set-attributes --enabled true --id KEY_ID/VERSION)",
			        "older version %s is disabled: data the resource wrote while bound "
			        "to it cannot be read",
			        it->version);
		/* Expired but enabled is no drift: under a rotation policy with an
		 * expiry every older version ends so, and Key Vault still unwraps
		 * with it (Microsoft Learn, about-keys-details, "Date-time
		 * controlled operations": expired keys work for decrypt, unwrap and
		 * verify). A note, not drift. */
		else if (expired) {
			cJSON_AddStringToObject(v, "note", expired_note);
			if (!c->o->json)
				cmk_print(stdout, "    (%s)\n", expired_note);
		}
	}
	if (!c->o->json && n)
		cmk_print(stdout, "  (%s.)\n", cmk_older_assumption);
}

int cmk_older_data_at_risk(cmk_ctx *c, const char *version, char *why, size_t n)
{
	const char *bound = c->binding.key_version;
	azkv_key_item *items;
	size_t all, count;
	int rc, hit = 0;

	*why = '\0';
	if (!c->resource || !c->binding.cmk || !c->binding.key_name ||
	    strcasecmp(c->binding.key_name, c->o->key) != 0)
		return CMK_EXIT_OK;
	rc = older_versions(c, bound, &items, &all, &count);
	if (rc != CMK_EXIT_OK)
		return rc;
	for (size_t i = 0; i < count; i++)
		hit |= strcmp(items[i].version, version) == 0;
	azkv_key_items_free(items, all);
	if (hit)
		snprintf(why, n,
		         "Version %s is older than the version %s uses (%s): data it wrote while "
		         "bound to %s is still encrypted under it (rotation does not re-encrypt) "
		         "and becomes unreadable once it is disabled. (%s.)",
		         version, c->resource_id, bound ? bound : "not named: versionless", version,
		         cmk_older_assumption);
	return CMK_EXIT_OK;
}
