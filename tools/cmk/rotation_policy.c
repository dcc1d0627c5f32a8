/* azkv-cmk rotation-policy (show, set), and the key's rotation policy for
 * create-key, check and status: the lab's task 2 asks for one that
 * rotates after six months, versions expiring after 210 days. Setting it
 * is idempotent: a policy that is already as asked is left alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"
#include "duration.h"

azkv_rc cmk_fetch_rotation_policy(cmk_ctx *c, cJSON **policy, azkv_err *err)
{
	const char *segs[] = {"keys", c->o->key, "rotationpolicy"};

	azkv_err_clear(err);
	return azkv_kv_json_request(c->kv, "GET", segs, 3, NULL, policy, err);
}

int cmk_read_rotation_policy(cmk_ctx *c, cJSON **policy)
{
	azkv_err err;

	if (cmk_fetch_rotation_policy(c, policy, &err) != AZKV_OK)
		return cmk_fail_err(c, &err,
		                    err.rc == AZKV_ERR_NOT_FOUND ? "check --key and --vault" : NULL,
		                    "read the rotation policy");
	return CMK_EXIT_OK;
}

void cmk_print_rotation_policy(const cJSON *policy)
{
	const cJSON *act;

	cmk_print(stdout, "Rotation policy:\n");
	cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(policy, "lifetimeActions"))
	{
		const char *after = cmk_str(act, "trigger.timeAfterCreate");
		const char *before = cmk_str(act, "trigger.timeBeforeExpiry");

		cmk_print(stdout, "  %-7s %s %s\n",
		          cmk_str(act, "action.type") ? cmk_str(act, "action.type") : "?",
		          after    ? after
		          : before ? before
		                   : "?",
		          after ? "after a version is created" : "before a version expires");
	}
	cmk_print(stdout, "  expiry  %s\n",
	          cmk_str(policy, "attributes.expiryTime")
	                  ? cmk_str(policy, "attributes.expiryTime")
	                  : "none (versions do not expire)");
}

static int check_duration(cmk_ctx *c, const char *opt, const char *value)
{
	if (value && azkv_duration_days(value) <= 0)
		return cmk_fail(
		        c, CMK_EXIT_USAGE,
		        "use an ISO 8601 duration in days, months or years, e.g. P90D, P6M, P1Y",
		        "%s \"%s\" is not a duration", opt, value);
	return CMK_EXIT_OK;
}

static cJSON *action(const char *type, const char *trigger, const char *value)
{
	cJSON *a = cJSON_CreateObject();

	cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "trigger"), trigger, value);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "action"), "type", type);
	return a;
}

/* The policy asked for: the options given, the rest kept from current. */
static cJSON *wanted_policy(const cmk_ctx *c, const cJSON *current)
{
	const char *rotate = c->o->rotate_after, *notify = c->o->notify_before;
	const char *expiry = c->o->expire_after;
	const cJSON *act;
	cJSON *p = cJSON_CreateObject(), *acts;

	cJSON_ArrayForEach(act, cJSON_GetObjectItemCaseSensitive(current, "lifetimeActions"))
	{
		const char *type = cmk_str(act, "action.type");

		if (!rotate && type && strcasecmp(type, "Rotate") == 0)
			rotate = cmk_str(act, "trigger.timeAfterCreate");
		if (!notify && type && strcasecmp(type, "Notify") == 0)
			notify = cmk_str(act, "trigger.timeBeforeExpiry");
	}
	if (!expiry)
		expiry = cmk_str(current, "attributes.expiryTime");
	acts = cJSON_AddArrayToObject(p, "lifetimeActions");
	if (rotate)
		cJSON_AddItemToArray(acts, action("Rotate", "timeAfterCreate", rotate));
	cJSON_AddItemToArray(acts, action("Notify", "timeBeforeExpiry", notify ? notify : "P30D"));
	if (expiry)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "attributes"), "expiryTime",
		                        expiry);
	return p;
}

/* Same actions and expiry (ignoring order, case and server-only fields)? */
static int same_policy(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;
	int n = 0;

	if (!cmk_str(a, "attributes.expiryTime") != !cmk_str(b, "attributes.expiryTime") ||
	    (cmk_str(a, "attributes.expiryTime") &&
	     strcasecmp(cmk_str(a, "attributes.expiryTime"), cmk_str(b, "attributes.expiryTime"))))
		return 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(a, "lifetimeActions"))
	{
		int found = 0;

		n++;
		cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(b, "lifetimeActions"))
		{
			const char *xt = cmk_str(x, "action.type"), *yt = cmk_str(y, "action.type");
			const char *xa = cmk_str(x, "trigger.timeAfterCreate");
			const char *ya = cmk_str(y, "trigger.timeAfterCreate");
			const char *xb = cmk_str(x, "trigger.timeBeforeExpiry");
			const char *yb = cmk_str(y, "trigger.timeBeforeExpiry");

			if (xt && yt && strcasecmp(xt, yt) == 0 && !xa == !ya &&
			    (!xa || strcasecmp(xa, ya) == 0) && !xb == !yb &&
			    (!xb || strcasecmp(xb, yb) == 0))
				found = 1;
		}
		if (!found)
			return 0;
	}
	return n == cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "lifetimeActions"));
}

int cmk_set_rotation_policy(cmk_ctx *c, const cJSON *current)
{
	const char *segs[] = {"keys", c->o->key, "rotationpolicy"};
	cJSON *want, *resp = NULL;
	const char *rotate, *expiry;
	int rc;

	rc = check_duration(c, "--rotate-after", c->o->rotate_after);
	if (rc == CMK_EXIT_OK)
		rc = check_duration(c, "--expire-after", c->o->expire_after);
	if (rc == CMK_EXIT_OK)
		rc = check_duration(c, "--notify-before", c->o->notify_before);
	if (rc != CMK_EXIT_OK)
		return rc;
	want = wanted_policy(c, current);
	rotate = cmk_str(
	        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(want, "lifetimeActions"), 0),
	        "trigger.timeAfterCreate");
	expiry = cmk_str(want, "attributes.expiryTime");
	if (rotate && expiry && azkv_duration_days(expiry) <= azkv_duration_days(rotate)) {
		rc = cmk_fail(
		        c, CMK_EXIT_REFUSED,
		        "make --expire-after longer than --rotate-after (the lab: rotate after "
		        "P6M, expire after P210D)",
		        "versions would expire (%s) before the next one is made (%s), and Foundry "
		        "would lose its key; nothing was changed",
		        expiry, rotate);
		cJSON_Delete(want);
		return rc;
	}
	if (same_policy(want, current)) {
		cmk_say(c, "Nothing to do: the rotation policy is already as asked.\n");
		cJSON_AddItemToObject(c->result, "rotationPolicy", want);
		return CMK_EXIT_OK;
	}
	rc = cmk_kv_change(c, "PUT", segs, 3, want, &resp, "set the rotation policy");
	if (rc == CMK_EXIT_OK && resp && !c->o->json)
		cmk_print_rotation_policy(resp);
	cJSON_AddItemToObject(c->result, "rotationPolicy", resp ? resp : cJSON_Duplicate(want, 1));
	cJSON_Delete(want);
	return rc;
}

int cmk_cmd_rotation_policy(cmk_ctx *c)
{
	const char *sub = c->o->subcommand ? c->o->subcommand : "show";
	cJSON *current = NULL;
	int rc;

	if (strcmp(sub, "show") != 0 && strcmp(sub, "set") != 0)
		return cmk_fail(c, CMK_EXIT_USAGE, "use: azkv-cmk rotation-policy show|set ...",
		                "unknown rotation-policy action \"%s\"", sub);
	if (!c->o->key)
		return cmk_fail(c, CMK_EXIT_USAGE, "name it with --key NAME",
		                "rotation-policy needs the key");
	rc = cmk_load_vault(c);
	if (rc == CMK_EXIT_OK)
		rc = cmk_read_rotation_policy(c, &current);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (strcmp(sub, "show") == 0) {
		if (!c->o->json)
			cmk_print_rotation_policy(current);
		cJSON_AddItemToObject(c->result, "rotationPolicy", current);
		return CMK_EXIT_OK;
	}
	if (!c->o->rotate_after && !c->o->expire_after && !c->o->notify_before)
		rc = cmk_fail(c, CMK_EXIT_USAGE,
		              "give --rotate-after, --expire-after and/or --notify-before",
		              "rotation-policy set: nothing to set");
	else
		rc = cmk_set_rotation_policy(c, current);
	cJSON_Delete(current);
	return rc;
}
