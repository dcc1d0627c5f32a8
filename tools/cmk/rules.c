/* azkv-cmk: the Foundry CMK rules, each judged pass / warn / fail with the
 * fix. Sources: Foundry's CMK reference and lab (seeds), which say: soft
 * delete and purge protection on; vault and resource in one region and
 * tenant; RSA or RSA-HSM keys of 2048 bits only; the identity holds get,
 * wrapKey, unwrapKey; trusted Microsoft services let through the
 * firewall; a managed identity before CMK; rotation within one vault. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmk.h"
#include "duration.h"

static const char *verdict_name(cmk_verdict v)
{
	return v == CMK_PASS ? "pass" : v == CMK_WARN ? "warn" : v == CMK_FAIL ? "fail" : "info";
}

void cmk_rule(cmk_ctx *c, cmk_rules *r, const char *id, cmk_verdict v, const char *fix,
              const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *o;

	(void)c;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->list)
		r->list = cJSON_CreateArray();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "status", verdict_name(v));
	cJSON_AddStringToObject(o, "message", msg);
	if (fix && v != CMK_PASS)
		cJSON_AddStringToObject(o, "fix", fix);
	cJSON_AddItemToArray(r->list, o);
	if (v == CMK_FAIL)
		r->fails++;
	if (v == CMK_WARN)
		r->warns++;
}

void cmk_rules_print(const cmk_ctx *c, const cmk_rules *r)
{
	const cJSON *o;

	if (c->o->json)
		return;
	cJSON_ArrayForEach(o, r->list)
	{
		const char *fix = cmk_str(o, "fix");

		cmk_print(stdout, "  %-4s  %-26s %s\n", cmk_str(o, "status"), cmk_str(o, "id"),
		          cmk_str(o, "message"));
		if (fix)
			cmk_print(stdout, "        %-26s fix: %s\n", "", fix);
	}
}

/* ---- the vault ---------------------------------------------------------- */

/* A rule with two outcomes and fixed messages: pass, or otherwise (warn
 * or fail) with its fix. */
static void pass_or(cmk_ctx *c, cmk_rules *r, const char *id, int ok, const char *pass,
                    cmk_verdict otherwise, const char *fix, const char *why)
{
	if (ok)
		cmk_rule(c, r, id, CMK_PASS, NULL, "%s", pass);
	else
		cmk_rule(c, r, id, otherwise, fix, "%s", why);
}

static void vault_rules(cmk_ctx *c, cmk_rules *r)
{
	const char *name = cmk_str(c->vault, "name");
	char fix[512];

	/* foundry-cmk-reference.txt, "Use customer-managed keys with Azure Key
	 * Vault": "You must enable both the Soft Delete and Do Not Purge
	 * properties"; foundry-cmk-lab.txt, "Key Vault configuration": purge
	 * protection enabled. */
	pass_or(c, r, "vault.soft-delete", cmk_bool(c->vault, "properties.enableSoftDelete", 1),
	        "soft delete is on", CMK_FAIL,
	        "turn it on: az keyvault update --name VAULT --enable-soft-delete true",
	        "soft delete is off; Foundry requires it");
	snprintf(fix, sizeof(fix),
	         "az keyvault update --name %s --enable-purge-protection true (irreversible, "
	         "as Azure intends)",
	         name ? name : "VAULT");
	pass_or(c, r, "vault.purge-protection",
	        cmk_bool(c->vault, "properties.enablePurgeProtection", 0), "purge protection is on",
	        CMK_FAIL, fix, "purge protection is off; Foundry requires it (\"Do Not Purge\")");

	cmk_network_rule(c, r); /* rules_network.c */

	cmk_permission_model_rule(c, r);
}

/* ---- the key ------------------------------------------------------------ */

/* The modulus length in bits (a JWK "n" may carry a leading zero byte). */
static long rsa_bits(const azkv_key *k)
{
	const unsigned char *n = k->jwk.n.data;
	size_t len = k->jwk.n.len;
	long bits;

	while (len > 0 && *n == 0) {
		n++;
		len--;
	}
	if (len == 0)
		return 0;
	bits = (long)(len - 1) * 8;
	for (unsigned v = *n; v; v >>= 1)
		bits++;
	return bits;
}

static void key_rules(cmk_ctx *c, const azkv_key *k, cmk_rules *r)
{
	int64_t now = (int64_t)time(NULL);
	int rsa = k->jwk.kty == AZKV_KTY_RSA;
	char fix[512];

	/* foundry-cmk-reference.txt, "Use customer-managed keys with Azure Key
	 * Vault": "Only RSA and RSA-HSM keys of size 2048 are supported";
	 * foundry-cmk-lab.txt, "Key Vault configuration": the same. */
	snprintf(fix, sizeof(fix),
	         "create a 2048-bit RSA key: azkv-cmk create-key --vault %s --key NAME",
	         c->o->vault);
	if (rsa)
		cmk_rule(c, r, "key.type", CMK_PASS, NULL, "%s", k->jwk.kty_name);
	else
		cmk_rule(c, r, "key.type", CMK_FAIL, fix,
		         "%s: Foundry accepts only RSA or RSA-HSM keys", k->jwk.kty_name);
	if (rsa && rsa_bits(k) == 2048)
		cmk_rule(c, r, "key.size", CMK_PASS, NULL, "2048 bits");
	else if (rsa)
		cmk_rule(c, r, "key.size", CMK_FAIL, fix,
		         "%ld bits: Foundry accepts only 2048-bit keys (3072 and 4096, as in the "
		         "hardening guide's RSA-4096 example, are refused)",
		         rsa_bits(k));
	if (k->enabled)
		cmk_rule(c, r, "key.enabled", CMK_PASS, NULL, "version %s is enabled", k->version);
	else
		cmk_rule(c, r, "key.enabled", CMK_FAIL,
		         "enable it: az keyvault key set-attributes --enabled true, or rotate",
		         "version %s is disabled", k->version);
	if (k->nbf && k->nbf > now)
		cmk_rule(c, r, "key.not-before", CMK_FAIL, "wait, or clear the key's nbf",
		         "version %s is not valid yet", k->version);
	if (!k->exp) {
		cmk_rule(c, r, "key.expiry", CMK_PASS, NULL, "no expiry date");
	} else if (k->exp <= now) {
		cmk_rule(c, r, "key.expiry", CMK_FAIL, "rotate: azkv-cmk rotate ...",
		         "version %s expired %lld days ago", k->version,
		         (long long)((now - k->exp) / 86400));
	} else if (k->exp - now < (int64_t)c->o->expiring_days * 86400) {
		cmk_rule(c, r, "key.expiry", CMK_WARN, "rotate before then: azkv-cmk rotate ...",
		         "version %s expires in %lld days", k->version,
		         (long long)((k->exp - now) / 86400));
	} else {
		cmk_rule(c, r, "key.expiry", CMK_PASS, NULL, "expires in %lld days",
		         (long long)((k->exp - now) / 86400));
	}
	if ((k->jwk.key_ops & AZKV_OP_WRAP_KEY) && (k->jwk.key_ops & AZKV_OP_UNWRAP_KEY))
		cmk_rule(c, r, "key.operations", CMK_PASS, NULL, "wrapKey and unwrapKey allowed");
	else
		cmk_rule(c, r, "key.operations", CMK_FAIL,
		         "allow them: az keyvault key set-attributes --ops wrapKey unwrapKey ...",
		         "the key's operations do not include wrapKey and unwrapKey");
}

/* foundry-cmk-lab.txt, Task 2 (rotation policy: rotate after 6 months,
 * expiry 210 days, and its note that expiry is each version's lifetime);
 * foundry-hardening-rbac-mi-cmk.txt: "Key rotation policy: Enabled". */
static void policy_rules(cmk_ctx *c, cmk_rules *r)
{
	const char *rotate = NULL, *expiry;
	cJSON *policy = NULL;
	const cJSON *act;
	azkv_err err;
	char fix[512];

	if (cmk_fetch_rotation_policy(c, &policy, &err) != AZKV_OK) {
		cmk_rule(c, r, "key.rotation-policy", CMK_WARN,
		         "give yourself getrotationpolicy (Key Vault Crypto Officer)",
		         "cannot read the rotation policy: %s", err.message);
		return;
	}
	cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(policy, "lifetimeActions"))
	{
		const char *type = cmk_str(act, "action.type");

		if (type && strcasecmp(type, "Rotate") == 0)
			rotate = cmk_str(act, "trigger.timeAfterCreate")
			                 ? cmk_str(act, "trigger.timeAfterCreate")
			                 : cmk_str(act, "trigger.timeBeforeExpiry");
	}
	expiry = cmk_str(policy, "attributes.expiryTime");
	snprintf(fix, sizeof(fix),
	         "azkv-cmk rotation-policy set --vault %s --key %s --rotate-after P6M "
	         "--expire-after P210D",
	         c->o->vault, c->o->key);
	if (!rotate)
		cmk_rule(c, r, "key.rotation-policy", CMK_WARN, fix,
		         "no automatic rotation (the policy only notifies)");
	else
		cmk_rule(c, r, "key.rotation-policy", CMK_PASS, NULL, "rotates %s%s%s", rotate,
		         expiry ? ", versions expire after " : "", expiry ? expiry : "");
	if (rotate && expiry) {
		long rot = azkv_duration_days(rotate), exp = azkv_duration_days(expiry);

		if (rot > 0 && exp > 0 && exp <= rot)
			cmk_rule(c, r, "key.expiry-after-rotation", CMK_FAIL, fix,
			         "versions expire (%s) before the next one is made (%s): Foundry "
			         "would lose its key",
			         expiry, rotate);
		else if (rot > 0 && exp > 0)
			cmk_rule(c, r, "key.expiry-after-rotation", CMK_PASS, NULL,
			         "expiry (%s) comes after rotation (%s)", expiry, rotate);
	}
	cJSON_Delete(policy);
}

/* ---- the resource and its identity ----------------------------------- */

static void location_norm(const char *in, char *out, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; in && in[i] && j + 1 < n; i++) {
		if (in[i] != ' ')
			out[j++] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	}
	out[j] = '\0';
}

static void resource_rules(cmk_ctx *c, cmk_rules *r)
{
	char vl[64], rl[64];
	const char *vt = cmk_str(c->vault, "properties.tenantId");
	const char *rname = cmk_str(c->resource, "name");

	/* foundry-cmk-lab.txt, "Key Vault configuration": "The Key Vault and
	 * Foundry hub must be in the same region and tenant." */
	location_norm(cmk_str(c->vault, "location"), vl, sizeof(vl));
	location_norm(cmk_str(c->resource, "location"), rl, sizeof(rl));
	if (strcmp(vl, rl) == 0)
		cmk_rule(c, r, "resource.region", CMK_PASS, NULL, "vault and %s are both in %s",
		         rname, vl);
	else
		cmk_rule(c, r, "resource.region", CMK_FAIL,
		         "use a key vault in the resource's region",
		         "the vault is in %s but %s is in %s: they must be in the same region", vl,
		         rname, rl);
	if (c->ident.tenant_id && vt && strcasecmp(c->ident.tenant_id, vt) != 0)
		cmk_rule(c, r, "resource.tenant", CMK_FAIL,
		         "use a key vault in the resource's Microsoft Entra tenant",
		         "the vault is in tenant %s but %s's identity is in %s", vt, rname,
		         c->ident.tenant_id);
	else if (c->ident.tenant_id)
		cmk_rule(c, r, "resource.tenant", CMK_PASS, NULL, "same tenant (%s)", vt);
	/* foundry-cmk-reference.txt, "Enable your Azure AI Foundry resource's
	 * managed identity": "Managed identity must be enabled as a
	 * prerequisite for using customer-managed keys." */
	if (!c->have_ident) {
		char fix[512];

		snprintf(fix, sizeof(fix),
		         c->kind == CMK_RES_ACCOUNT
		                 ? "az cognitiveservices account identity assign --name %s "
		                   "--resource-group RG (then grant, then bind)"
		                 : "a workspace's identity is set when it is created: recreate %s "
		                   "with one",
		         rname ? rname : "NAME");
		cmk_rule(c, r, "resource.identity", CMK_FAIL, fix,
		         "%s has no managed identity: Foundry uses one to reach the key", rname);
	} else {
		cmk_rule(c, r, "resource.identity", CMK_PASS, NULL, "%s", c->ident.label);
	}
	/* foundry-cmk-reference.txt, "Rotation Limitations" / "Same Key Vault
	 * Requirement": rotation only to a key in the same vault. */
	if (c->binding.cmk && c->binding.vault_uri &&
	    strcasecmp(c->binding.vault_uri, c->vault_uri) != 0)
		cmk_rule(c, r, "resource.same-vault", CMK_FAIL,
		         "use a key in the vault it is bound to; a key cannot move between vaults",
		         "%s is bound to a key in %s; Foundry only rotates to keys in the same "
		         "vault",
		         rname, c->binding.vault_uri);
	/* foundry-cmk-reference.txt, "Limitations": "AI Foundry hub resources
	 * can't be updated from Microsoft-managed keys to customer-managed keys,
	 * or vice versa, post-creation." */
	if (c->kind == CMK_RES_WORKSPACE && !c->binding.workspace_enabled) {
		char fix[1024];

		cmk_create_hub_fix(c, NULL, fix, sizeof(fix));
		cmk_rule(c, r, "resource.cmk-at-creation", CMK_FAIL, fix,
		         "%s was created with Microsoft-managed keys and cannot be changed to a "
		         "customer-managed key",
		         rname);
	}
}

/* foundry-cmk-lab.txt, "Managed identity access" and Task 4: get, wrapKey
 * and unwrapKey, "Key Vault Crypto Service Encryption User" the least
 * privilege; foundry-cmk-reference.txt, "Use customer-managed keys with
 * Azure Key Vault": the same three permissions. */
static void grant_rules(cmk_ctx *c, const char *principal, cmk_rules *r)
{
	cmk_grants gs;
	char fix[512];

	if (cmk_grants_load(c, principal, &gs) != CMK_EXIT_OK) {
		cmk_rule(c, r, "identity.grant", CMK_WARN, NULL,
		         "could not read the identity's grants");
		cmk_unseen_grant_rules(c, NULL, r); /* rules_unseen.c */
		return;
	}
	cmk_grant_fix(c, principal, fix, sizeof(fix));
	if (gs.has_access)
		cmk_rule(c, r, "identity.grant", CMK_PASS, NULL,
		         "the identity can get, wrapKey and unwrapKey (%s)",
		         cmk_vault_uses_rbac(c) ? "role assignment" : "access policy");
	else
		cmk_rule(c, r, "identity.grant", CMK_FAIL, fix,
		         "the identity cannot get, wrapKey and unwrapKey on the key%s",
		         gs.n ? " under the vault's permission model" : "");
	for (size_t i = 0; i < gs.n; i++) {
		const cmk_grant *g = &gs.g[i];

		if (g->effective && !g->broader)
			cmk_rule(c, r, "identity.current-grant", CMK_INFO, NULL, "%s %s at %s",
			         g->via, g->role_name ? g->role_name : "get, wrapKey, unwrapKey",
			         g->scope);
		if (g->broader && g->effective)
			cmk_rule(c, r, "identity.least-privilege", CMK_WARN,
			         "replace it with \"Key Vault Crypto Service Encryption User\" at "
			         "the "
			         "key's scope (azkv-cmk grant), then remove it",
			         "%s %s at %s is broader than needed (%s)", g->via,
			         g->role_name ? g->role_name : "policy", g->scope,
			         g->detail ? g->detail : "");
		else if (!g->effective)
			cmk_rule(c, r, "identity.ineffective-grant", CMK_INFO, NULL,
			         "%s %s is ignored: the vault uses %s", g->via,
			         g->role_name ? g->role_name : "policy",
			         cmk_vault_uses_rbac(c) ? "Azure RBAC" : "access policies");
	}
	cmk_unseen_grant_rules(c, &gs, r); /* rules_unseen.c */
	cJSON_AddItemToObject(c->result, "grants", cmk_grants_json(&gs));
	cmk_grants_free(&gs);
}

int cmk_evaluate(cmk_ctx *c, const char *version, cmk_rules *r)
{
	azkv_key key;
	azkv_err err;
	const char *principal = cmk_principal(c);

	vault_rules(c, r);
	cmk_retention_rule(c, r); /* rules_retention.c */
	azkv_err_clear(&err);
	if (azkv_kv_get_key(c->kv, c->o->key, version, &key, &err) != AZKV_OK) {
		if (err.rc == AZKV_ERR_NOT_FOUND) {
			char fix[512];

			snprintf(fix, sizeof(fix),
			         "create it: azkv-cmk create-key --vault %s --key %s", c->o->vault,
			         c->o->key);
			cmk_rule(c, r, "key.exists", CMK_FAIL, fix, "key %s%s%s not found in %s",
			         c->o->key, version ? "/" : "", version ? version : "",
			         c->vault_uri);
			return CMK_EXIT_OK;
		}
		return cmk_fail_err(c, &err,
		                    "the identity in the configuration needs to read keys "
		                    "(Key Vault Crypto Officer, or an access policy with get)",
		                    "read the key");
	}
	key_rules(c, &key, r);
	azkv_key_free(&key);
	policy_rules(c, r);
	cmk_monitoring_rules(c, r);
	if (c->resource)
		resource_rules(c, r);
	if (c->resource)
		cmk_approval_rule(c, r); /* rules_approval.c */
	if (principal)
		grant_rules(c, principal, r);
	return CMK_EXIT_OK;
}
