/* azkv-cmk: audit and monitoring of the vault. Reads where the vault's
 * audit events go (its Microsoft.Insights/diagnosticSettings) and who
 * listens for Microsoft.KeyVault.KeyNearExpiry (Event Grid subscriptions
 * on the vault's system topic), for check (rules vault.audit-logs and
 * key.near-expiry-listener), status (one line) and the audit command
 * (audit status, audit enable).
 *
 * Why: foundry-cmk-lab.txt, "Benefits": CMKs "enable auditability through
 * Key Vault logging", and its scenario asks to "maintain auditability of
 * key usage"; foundry-hardening-rbac-mi-cmk.txt, "Compliance Implications":
 * SOC 2 wants "CMK + audit logging"; azure-ai-security-overview.txt,
 * "Compliance and Governance": "Enable Azure Monitor diagnostic logs for
 * audit trails". Key Vault writes its audit log (category AuditEvent, in
 * the category groups audit and allLogs) only where a diagnostic setting
 * sends it: a Log Analytics workspace, a storage account or an event hub.
 *
 * Shapes: diagnosticsSettings_API.json of the REST spec, api-version
 * 2021-05-01-preview (the first with categoryGroup); Event Grid
 * api-version 2022-06-15 (@azure/arm-eventgrid 14.1.0). A key's rotation
 * policy's Notify action raises KeyNearExpiry through Event Grid ("Configure
 * cryptographic key auto-rotation in Azure Key Vault"); with no
 * subscription it reaches no one. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

#define NEAR_EXPIRY     "Microsoft.KeyVault.KeyNearExpiry"
#define DEFAULT_SETTING "azkv-cmk-audit"

/* The destinations a diagnostic setting can name, as azkv-cmk names them. */
static const struct destination {
	const char *property; /* in the setting's properties */
	const char *option;   /* audit enable's option */
	const char *what;     /* for people */
	const char *id_of;    /* what the option's ARM id names */
} destinations[] = {
        {"workspaceId", "--workspace", "Log Analytics workspace", "a Log Analytics workspace"},
        {"storageAccountId", "--storage-account", "storage account", "a storage account"},
        {"eventHubAuthorizationRuleId", "--event-hub-rule", "event hub",
         "an Event Hubs namespace's authorization rule"},
};
#define N_DEST (sizeof(destinations) / sizeof(*destinations))

/* ---- the ids audit enable takes -------------------------------------- */

static int all_chars(const char *s, size_t n, const char *extra, int lower_only)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x80 || (!isalnum(ch) && !strchr(extra, ch)) ||
		    (lower_only && isupper(ch)))
			return 0;
	}
	return 1;
}

/* Whether id is the ARM id of a destination of kind i, with Azure's
 * naming rules for it (resource-name-rules: Log Analytics workspaces 4-63
 * letters, digits and hyphens; storage accounts 3-24 lower-case letters
 * and digits; Event Hubs namespaces 6-50, starting with a letter, and the
 * namespace's authorization rule, 1-256 letters, digits, '.', '-', '_'). */
static int destination_id_ok(size_t i, const char *id)
{
	const char *name = cmk_last_segment(id);
	size_t n = strlen(name);

	if (i == 0)
		return cmk_arm_id_ok(id, "Microsoft.OperationalInsights/workspaces",
		                     CMK_NAME_ACCOUNT) &&
		       n >= 4 && n <= 63;
	if (i == 1)
		return cmk_arm_id_ok(id, "Microsoft.Storage/storageAccounts", CMK_NAME_ACCOUNT) &&
		       n >= 3 && n <= 24 && all_chars(name, n, "", 1);
	/* .../providers/Microsoft.EventHub/namespaces/NS/authorizationrules/RULE */
	{
		static const char rules[] = "/authorizationrules/";
		size_t len = strlen(id), at = len > n + strlen(rules) ? len - n - strlen(rules) : 0;
		char ns_id[1100];
		const char *ns;

		if (at == 0 || at >= sizeof(ns_id) ||
		    strncasecmp(id + at, rules, strlen(rules)) != 0 || n < 1 || n > 256 ||
		    !all_chars(name, n, ".-_", 0))
			return 0;
		snprintf(ns_id, sizeof(ns_id), "%.*s", (int)at, id);
		ns = cmk_last_segment(ns_id);
		return cmk_arm_id_ok(ns_id, "Microsoft.EventHub/namespaces", CMK_NAME_ACCOUNT) &&
		       strlen(ns) >= 6 && strlen(ns) <= 50 && isalpha((unsigned char)ns[0]);
	}
}

/* ---- reading the vault's settings and listeners ---------------------- */

/* "{vault id}/providers/Microsoft.Insights/diagnosticSettings[/NAME]". Owned. */
static char *settings_path(const cmk_ctx *c, const char *name)
{
	size_t len = strlen(c->vault_id) + (name ? strlen(name) : 0) + 64;
	char *p = malloc(len);

	if (p)
		snprintf(p, len, "%s/providers/Microsoft.Insights/diagnosticSettings%s%s",
		         c->vault_id, name ? "/" : "", name ? name : "");
	return p;
}

static azkv_rc list_settings(cmk_ctx *c, cJSON **items, azkv_err *err)
{
	char *path = settings_path(c, NULL);
	azkv_rc rc;

	azkv_err_clear(err);
	*items = NULL;
	if (!path)
		return azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
	rc = azkv_arm_list(c->arm, path, CMK_API_MONITOR, items, err);
	free(path);
	return rc;
}

/* Whether the setting sends the vault's audit events: an enabled log entry
 * with category AuditEvent or category group audit or allLogs. */
static int sends_audit(const cJSON *setting)
{
	const cJSON *log;

	cJSON_ArrayForEach(log, cmk_item(setting, "properties.logs"))
	{
		const char *cat = cmk_str(log, "category"), *group = cmk_str(log, "categoryGroup");

		if (cmk_bool(log, "enabled", 0) && ((cat && strcasecmp(cat, "AuditEvent") == 0) ||
		                                    (group && (strcasecmp(group, "audit") == 0 ||
		                                               strcasecmp(group, "allLogs") == 0))))
			return 1;
	}
	return 0;
}

/* The destination i of setting, NULL when it has none. */
static const char *destination_of(const cJSON *setting, size_t i)
{
	const char *d = cmk_str(cmk_item(setting, "properties"), destinations[i].property);

	return d && *d ? d : NULL;
}

/* Where the audit events go: [{setting, kind, destination}]. Owned. */
static cJSON *audit_routes(const cJSON *settings)
{
	cJSON *routes = cJSON_CreateArray();
	const cJSON *s;

	cJSON_ArrayForEach(s, settings)
	{
		if (!sends_audit(s))
			continue;
		for (size_t i = 0; i < N_DEST; i++) {
			cJSON *r;

			if (!destination_of(s, i))
				continue;
			r = cJSON_CreateObject();
			cJSON_AddStringToObject(r, "setting",
			                        cmk_str(s, "name") ? cmk_str(s, "name") : "?");
			cJSON_AddStringToObject(r, "kind", destinations[i].property);
			cJSON_AddStringToObject(r, "destination", destination_of(s, i));
			cJSON_AddItemToArray(routes, r);
		}
	}
	return routes;
}

/* Whether the event subscription delivers KeyNearExpiry of key (NULL: any
 * key): no type filter (every event type) or one that names it, and a
 * subject filter (the subject is the key's name) the key passes. */
static int hears_near_expiry(const cJSON *sub, const char *key)
{
	const cJSON *flt = cmk_item(sub, "properties.filter");
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(flt, "includedEventTypes");
	const char *begins = cmk_str(flt, "subjectBeginsWith");
	const char *ends = cmk_str(flt, "subjectEndsWith");
	int (*cmp)(const char *, const char *, size_t) =
	        cmk_bool(flt, "isSubjectCaseSensitive", 0) ? strncmp : strncasecmp;
	const cJSON *t;
	int typed = 0;

	cJSON_ArrayForEach(t, types)
	{
		typed = 1;
		if (cJSON_IsString(t) && strcasecmp(t->valuestring, NEAR_EXPIRY) == 0) {
			typed = 2;
			break;
		}
	}
	if (typed == 1)
		return 0;
	if (key && begins && *begins && cmp(key, begins, strlen(begins)) != 0)
		return 0;
	if (key && ends && *ends &&
	    (strlen(ends) > strlen(key) ||
	     cmp(key + strlen(key) - strlen(ends), ends, strlen(ends))))
		return 0;
	return 1;
}

/* The event subscriptions on the vault's system topics that deliver
 * KeyNearExpiry of key: [{topic, subscription, endpointType}]. System
 * topics live in their source's subscription. */
static azkv_rc near_expiry_listeners(cmk_ctx *c, const char *key, cJSON **out, azkv_err *err)
{
	const char *vault_arm_id = cmk_str(c->vault, "id");
	const char *sub = cmk_vault_subscription(c, NULL);
	char path[256];
	cJSON *topics = NULL;
	const cJSON *t;
	azkv_rc rc;

	*out = cJSON_CreateArray();
	azkv_err_clear(err);
	snprintf(path, sizeof(path),
	         "/subscriptions/%.*s/providers/Microsoft.EventGrid/systemTopics",
	         (int)strcspn(sub, "/"), sub);
	rc = azkv_arm_list(c->arm, path, CMK_API_EVENTGRID, &topics, err);
	cJSON_ArrayForEach(t, (rc == AZKV_OK ? topics : NULL))
	{
		const char *source = cmk_str(t, "properties.source"), *id = cmk_str(t, "id");
		cJSON *subs = NULL;
		const cJSON *s;
		char *coll;
		size_t len;

		if (!source || !id ||
		    (strcasecmp(source, c->vault_id) != 0 &&
		     (!vault_arm_id || strcasecmp(source, vault_arm_id) != 0)))
			continue;
		/* The topic's id came from Azure: it goes into a URL only as an id
		 * of one system topic. */
		if (!cmk_resource_id_ok(id, CMK_PROVIDER_SYSTEM_TOPIC)) {
			rc = azkv_err_set(err, AZKV_ERR_PROTOCOL, "system topic id %s is not valid",
			                  id);
			break;
		}
		len = strlen(id) + 32;
		coll = malloc(len);
		if (!coll) {
			rc = azkv_err_set(err, AZKV_ERR_NOMEM, "out of memory");
			break;
		}
		snprintf(coll, len, "%s/eventSubscriptions", id);
		rc = azkv_arm_list(c->arm, coll, CMK_API_EVENTGRID, &subs, err);
		free(coll);
		cJSON_ArrayForEach(s, (rc == AZKV_OK ? subs : NULL))
		{
			cJSON *l;

			if (!hears_near_expiry(s, key))
				continue;
			l = cJSON_CreateObject();
			cJSON_AddStringToObject(l, "topic",
			                        cmk_str(t, "name") ? cmk_str(t, "name") : id);
			cJSON_AddStringToObject(l, "subscription",
			                        cmk_str(s, "name") ? cmk_str(s, "name") : "?");
			cJSON_AddStringToObject(
			        l, "endpointType",
			        cmk_str(s, "properties.destination.endpointType")
			                ? cmk_str(s, "properties.destination.endpointType")
			                : "?");
			cJSON_AddItemToArray(*out, l);
		}
		cJSON_Delete(subs);
		if (rc != AZKV_OK)
			break;
	}
	cJSON_Delete(topics);
	return rc;
}

/* "Log Analytics workspace NAME (setting S)" etc., joined, for people. */
static void describe_routes(const cJSON *routes, char *buf, size_t n)
{
	const cJSON *r;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(r, routes)
	{
		const char *kind = cmk_str(r, "kind"), *what = "?";

		for (size_t i = 0; i < N_DEST; i++) {
			if (kind && strcmp(kind, destinations[i].property) == 0)
				what = destinations[i].what;
		}
		if (used < n)
			used += (size_t)snprintf(buf + used, n - used, "%s%s %s (setting %s)",
			                         used ? ", " : "", what,
			                         cmk_last_segment(cmk_str(r, "destination")),
			                         cmk_str(r, "setting"));
	}
}

static void enable_fix(const cmk_ctx *c, char *buf, size_t n)
{
	snprintf(buf, n,
	         "azkv-cmk audit enable --vault %s --workspace LOG_ANALYTICS_WORKSPACE_ID (or "
	         "--storage-account ID, --event-hub-rule ID)",
	         c->o->vault);
}

/* ---- check ------------------------------------------------------------ */

void cmk_monitoring_rules(cmk_ctx *c, cmk_rules *r)
{
	cJSON *settings = NULL, *routes, *listeners = NULL;
	char fix[512], where[1024];
	azkv_err err;

	/* foundry-cmk-lab.txt, "Benefits": auditability through Key Vault
	 * logging; foundry-hardening-rbac-mi-cmk.txt, "Compliance
	 * Implications": CMK + audit logging. */
	enable_fix(c, fix, sizeof(fix));
	if (list_settings(c, &settings, &err) != AZKV_OK) {
		cmk_rule(c, r, "vault.audit-logs", CMK_WARN,
		         "give yourself Microsoft.Insights/diagnosticSettings/read on the vault "
		         "(Monitoring Reader)",
		         "cannot read the vault's diagnostic settings: %s", err.message);
	} else {
		routes = audit_routes(settings);
		describe_routes(routes, where, sizeof(where));
		if (cJSON_GetArraySize(routes) > 0)
			cmk_rule(c, r, "vault.audit-logs", CMK_PASS, NULL,
			         "the vault's audit events (AuditEvent) go to %s", where);
		else
			cmk_rule(
			        c, r, "vault.audit-logs", CMK_WARN, fix,
			        "no diagnostic setting sends the vault's audit events (AuditEvent, "
			        "category group audit) anywhere: key use is not audited");
		cJSON_Delete(routes);
		cJSON_Delete(settings);
	}

	/* The rotation policy's Notify action (timeBeforeExpiry) raises
	 * KeyNearExpiry through Event Grid; foundry-cmk-lab.txt, "Key rotation
	 * and management": after a new version "the Foundry resource must be
	 * updated", so someone has to hear of it. */
	if (near_expiry_listeners(c, c->o->key, &listeners, &err) != AZKV_OK)
		cmk_rule(c, r, "key.near-expiry-listener", CMK_WARN,
		         "give yourself Microsoft.EventGrid/systemTopics/read and "
		         "eventSubscriptions/read (Reader)",
		         "cannot read the vault's Event Grid subscriptions: %s", err.message);
	else if (cJSON_GetArraySize(listeners) > 0)
		cmk_rule(c, r, "key.near-expiry-listener", CMK_PASS, NULL,
		         "%s of %s reaches Event Grid subscription %s (system topic %s)",
		         NEAR_EXPIRY, c->o->key,
		         cmk_str(cJSON_GetArrayItem(listeners, 0), "subscription"),
		         cmk_str(cJSON_GetArrayItem(listeners, 0), "topic"));
	else
		cmk_rule(c, r, "key.near-expiry-listener", CMK_WARN,
		         "subscribe to it: az eventgrid system-topic create --topic-type "
		         "Microsoft.KeyVault.vaults --source VAULT_ID ..., then az eventgrid "
		         "system-topic event-subscription create --included-event-types "
		         "Microsoft.KeyVault.KeyNearExpiry ...",
		         "nothing listens for %s: the rotation policy's Notify action reaches no "
		         "one (no Event Grid subscription on the vault's system topic)",
		         NEAR_EXPIRY);
	cJSON_Delete(listeners);
}

/* ---- status ----------------------------------------------------------- */

void cmk_monitoring_status(cmk_ctx *c)
{
	cJSON *settings = NULL, *routes;
	char where[1024], fix[512];
	azkv_err err;

	if (list_settings(c, &settings, &err) != AZKV_OK) {
		if (!c->o->json)
			cmk_print(stdout,
			          "Audit events: cannot read the diagnostic settings (%s)\n",
			          err.message);
		return;
	}
	routes = audit_routes(settings);
	cJSON_Delete(settings);
	describe_routes(routes, where, sizeof(where));
	enable_fix(c, fix, sizeof(fix));
	if (!c->o->json)
		cmk_print(stdout, "Audit events: %s%s\n",
		          cJSON_GetArraySize(routes) ? "to " : "not sent anywhere; fix: ",
		          cJSON_GetArraySize(routes) ? where : fix);
	cJSON_AddItemToObject(c->result, "auditEvents", routes);
}

/* ---- azkv-cmk audit status|enable ------------------------------------- */

/* audit status: the vault's settings, where audit events go, and who hears
 * KeyNearExpiry. Exit 1 when the audit events go nowhere. */
static int audit_status(cmk_ctx *c, cJSON *settings)
{
	cJSON *routes = audit_routes(settings), *listeners = NULL;
	const cJSON *s, *l;
	char where[1024], fix[512];
	azkv_err err;
	int audited = cJSON_GetArraySize(routes) > 0;

	describe_routes(routes, where, sizeof(where));
	if (!c->o->json) {
		cmk_print(stdout, "Diagnostic settings of %s:\n", c->vault_id);
		cJSON_ArrayForEach(s, settings)
		{
			cmk_print(stdout, "  %s%s\n", cmk_str(s, "name") ? cmk_str(s, "name") : "?",
			          sends_audit(s) ? "  (audit events)" : "");
			for (size_t i = 0; i < N_DEST; i++) {
				if (destination_of(s, i))
					cmk_print(stdout, "    %-24s %s\n", destinations[i].what,
					          destination_of(s, i));
			}
		}
		if (cJSON_GetArraySize(settings) == 0)
			cmk_print(stdout, "  (none)\n");
		enable_fix(c, fix, sizeof(fix));
		cmk_print(stdout, "Audit events: %s%s\n",
		          audited ? "to " : "not sent anywhere; fix: ", audited ? where : fix);
	}
	cJSON_AddItemToObject(c->result, "diagnosticSettings", cJSON_Duplicate(settings, 1));
	cJSON_AddItemToObject(c->result, "auditEvents", routes);
	if (near_expiry_listeners(c, c->o->key, &listeners, &err) != AZKV_OK) {
		if (!c->o->json)
			cmk_print(stdout, "%s listeners: cannot read them (%s)\n", NEAR_EXPIRY,
			          err.message);
	} else {
		if (!c->o->json)
			cmk_print(stdout, "%s listeners:%s\n", NEAR_EXPIRY,
			          cJSON_GetArraySize(listeners) ? "" : " none");
		cJSON_ArrayForEach(l, (c->o->json ? NULL : listeners))
		{
			cmk_print(stdout, "  %s on system topic %s (%s)\n",
			          cmk_str(l, "subscription"), cmk_str(l, "topic"),
			          cmk_str(l, "endpointType"));
		}
		cJSON_AddItemToObject(c->result, "nearExpiryListeners", listeners);
		listeners = NULL;
	}
	cJSON_Delete(listeners);
	return audited ? CMK_EXIT_OK : CMK_EXIT_FINDINGS;
}

/* The setting's body: an existing one of that name kept as it is, with the
 * destinations added and the audit category group turned on. Owned. */
static cJSON *setting_body(const cJSON *existing, const char *const *want)
{
	cJSON *body = cJSON_CreateObject(), *props, *logs;

	props = cJSON_Duplicate(cmk_item(existing, "properties"), 1);
	if (!props)
		props = cJSON_CreateObject();
	cJSON_AddItemToObject(body, "properties", props);
	for (size_t i = 0; i < N_DEST; i++) {
		if (!want[i])
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(props, destinations[i].property);
		cJSON_AddStringToObject(props, destinations[i].property, want[i]);
	}
	if (!sends_audit(body)) {
		cJSON *log, *audit = NULL;

		logs = cJSON_GetObjectItemCaseSensitive(props, "logs");
		if (!cJSON_IsArray(logs)) {
			cJSON_DeleteItemFromObjectCaseSensitive(props, "logs");
			logs = cJSON_AddArrayToObject(props, "logs");
		}
		/* An audit entry that is off is turned on, not given twice. */
		cJSON_ArrayForEach(log, logs)
		{
			const char *group = cmk_str(log, "categoryGroup");

			if (group && strcasecmp(group, "audit") == 0)
				audit = log;
		}
		if (!audit) {
			audit = cJSON_CreateObject();
			cJSON_AddStringToObject(audit, "categoryGroup", "audit");
			cJSON_AddItemToArray(logs, audit);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(audit, "enabled");
		cJSON_AddBoolToObject(audit, "enabled", 1);
	}
	return body;
}

/* audit enable: a diagnostic setting that sends the audit events to each
 * destination asked that does not get them yet; nothing when all do. */
static int audit_enable(cmk_ctx *c, const cJSON *settings, const char *const *asked)
{
	const char *name = c->o->setting_name ? c->o->setting_name : DEFAULT_SETTING;
	const char *want[N_DEST] = {0};
	const cJSON *s, *existing = NULL;
	cJSON *body, *resp = NULL;
	char *path;
	int missing = 0, rc;

	for (size_t i = 0; i < N_DEST; i++) {
		int covered = 0;

		cJSON_ArrayForEach(s, (asked[i] ? settings : NULL))
		{
			if (sends_audit(s) && destination_of(s, i) &&
			    strcasecmp(destination_of(s, i), asked[i]) == 0) {
				covered = 1;
				cmk_say(c, "%s %s already gets the audit events (setting %s)\n",
				        destinations[i].what, cmk_last_segment(asked[i]),
				        cmk_str(s, "name") ? cmk_str(s, "name") : "(unnamed)");
			}
		}
		if (asked[i] && !covered) {
			want[i] = asked[i];
			missing++;
		}
	}
	if (missing == 0) {
		cJSON_AddBoolToObject(c->result, "changed", 0);
		cmk_say(c, "Nothing to do: the vault's audit events already go there.\n");
		return CMK_EXIT_OK;
	}
	cJSON_ArrayForEach(s, settings)
	{
		if (cmk_str(s, "name") && strcasecmp(cmk_str(s, "name"), name) == 0)
			existing = s;
	}
	/* A setting has one destination of each kind: putting the new one in
	 * its place would silently stop the audit events going to the old. */
	for (size_t i = 0; existing && i < N_DEST; i++) {
		if (want[i] && destination_of(existing, i) &&
		    strcasecmp(destination_of(existing, i), want[i]) != 0)
			return cmk_fail(
			        c, CMK_EXIT_REFUSED,
			        "name another setting for it: audit enable ... --name NEW-NAME "
			        "(or change the setting by hand if the old destination is to "
			        "go)",
			        "diagnostic setting %s already sends to %s %s; changing it "
			        "to %s would stop that",
			        name, destinations[i].what,
			        cmk_last_segment(destination_of(existing, i)),
			        cmk_last_segment(want[i]));
	}
	path = settings_path(c, name);
	if (!path)
		return cmk_fail(c, CMK_EXIT_SERVICE, NULL, "out of memory");
	body = setting_body(existing, want);
	rc = cmk_arm_change(c, "PUT", path, CMK_API_MONITOR, body, 0, &resp,
	                    "set the vault's diagnostic setting");
	free(path);
	cJSON_AddBoolToObject(c->result, "changed", rc == CMK_EXIT_OK && !c->o->dry_run);
	if (rc == CMK_EXIT_OK && resp) {
		cJSON *one = cJSON_CreateArray(), *routes;
		char where[1024];

		cJSON_AddItemReferenceToArray(one, resp);
		routes = audit_routes(one);
		cJSON_Delete(one);
		/* Read back as Azure keeps it: does it send the audit events now? */
		describe_routes(routes, where, sizeof(where));
		cJSON_Delete(routes);
		if (!sends_audit(resp))
			rc = cmk_fail(c, CMK_EXIT_SERVICE, NULL,
			              "Azure kept diagnostic setting %s without the audit events",
			              name);
		else
			cmk_say(c, "The vault's audit events now go to %s\n", where);
	}
	cJSON_AddItemToObject(c->result, "diagnosticSetting", resp ? resp : body);
	if (resp)
		cJSON_Delete(body);
	return rc;
}

int cmk_cmd_audit(cmk_ctx *c)
{
	const char *sub = c->o->subcommand ? c->o->subcommand : "status";
	const char *asked[N_DEST] = {c->o->audit_workspace, c->o->audit_storage,
	                             c->o->audit_event_hub};
	int enable = strcmp(sub, "enable") == 0, n_asked = 0, rc;
	cJSON *settings = NULL;
	azkv_err err;

	if (!enable && strcmp(sub, "status") != 0)
		return cmk_fail(c, CMK_EXIT_USAGE, "use: azkv-cmk audit status|enable ...",
		                "unknown audit action \"%s\"", sub);
	for (size_t i = 0; i < N_DEST; i++) {
		if (!asked[i])
			continue;
		if (!enable)
			return cmk_fail(c, CMK_EXIT_USAGE, "destinations go with audit enable",
			                "audit status does not take %s", destinations[i].option);
		if (!destination_id_ok(i, asked[i]))
			return cmk_fail(
			        c, CMK_EXIT_USAGE,
			        i == 0   ? "give the Log Analytics workspace's ARM id: "
			                   "/subscriptions/GUID/resourceGroups/RG/providers/"
			                   "Microsoft.OperationalInsights/workspaces/NAME (az "
			                   "monitor log-analytics workspace show --query id)"
			        : i == 1 ? "give the storage account's ARM id: "
			                   "/subscriptions/GUID/resourceGroups/RG/providers/"
			                   "Microsoft.Storage/storageAccounts/NAME"
			                 : "give the Event Hubs namespace's authorization "
			                   "rule id: /subscriptions/GUID/resourceGroups/RG/"
			                   "providers/Microsoft.EventHub/namespaces/NS/"
			                   "authorizationrules/RULE",
			        "%s \"%s\" is not the ARM id of %s", destinations[i].option,
			        asked[i], destinations[i].id_of);
		n_asked++;
	}
	if (enable && n_asked == 0)
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "give --workspace LOG_ANALYTICS_WORKSPACE_ID (or --storage-account "
		                "ID, --event-hub-rule ID)",
		                "audit enable: where should the audit events go?");
	if (c->o->setting_name &&
	    (strlen(c->o->setting_name) > 64 || !*c->o->setting_name ||
	     !all_chars(c->o->setting_name, strlen(c->o->setting_name), "-_.", 0)))
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "a setting name here is 1-64 letters, digits, '-', '_' and '.'",
		                "--name \"%s\" is not a valid diagnostic setting name",
		                c->o->setting_name);
	rc = cmk_load_vault(c);
	if (rc != CMK_EXIT_OK)
		return rc;
	if (list_settings(c, &settings, &err) != AZKV_OK)
		return cmk_fail_err(
		        c, &err,
		        "you need Microsoft.Insights/diagnosticSettings/read on the vault "
		        "(Monitoring Reader; to enable: Monitoring Contributor)",
		        "read the vault's diagnostic settings");
	rc = enable ? audit_enable(c, settings, asked) : audit_status(c, settings);
	cJSON_Delete(settings);
	return rc;
}
