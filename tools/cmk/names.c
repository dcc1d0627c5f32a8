/* azkv-cmk: the names and ids it puts into URLs. A name or ARM id is
 * pasted into a Resource Manager path, so '?', '#', '%', '/' or a ".."
 * segment in one would change which resource or scope a request reaches
 * (a GET of another scope, a role assignment at the subscription).
 * Everything given on the command line, in the configuration or in the
 * environment is checked here before the first request; names read back
 * from Azure are checked where they are used (cmk_resource_id,
 * cmk_targets_from_binding, key_access.c).
 *
 * The rules are Azure's own, from "Naming rules and restrictions for Azure
 * resources" (learn.microsoft.com/azure/azure-resource-manager/management/
 * resource-name-rules) and, for keys and versions, Key Vault's
 * (keyvault.h). Resource groups may also hold Unicode letters;
 * those are refused here (ASCII only), as their escaping is not worth
 * the risk for a tool that names a handful of resources. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmk.h"

typedef struct name_rule {
	const char *what;  /* for messages */
	size_t min, max;   /* length */
	const char *extra; /* allowed besides ASCII letters and digits */
	int start;         /* 0: any allowed character, 1: a letter, 2: a letter or digit */
	int last_alnum;    /* must end with a letter or digit */
	int no_double_hyphen;
	int not_last_dot;
	int lower_only; /* no upper-case letters */
} name_rule;

static const name_rule rules[] = {
        [CMK_NAME_VAULT] = {"key vault name", 3, 24, "-", 1, 1, 1, 0, 0},
        /* Key names and versions follow Key Vault's rules, azkv_kv_name_ok
         * and azkv_kv_version_ok (keyvault.h); their rows only name them. */
        [CMK_NAME_KEY] = {.what = "key name"},
        [CMK_NAME_VERSION] = {.what = "key version"},
        [CMK_NAME_RESOURCE_GROUP] = {"resource group name", 1, 90, "-_.()", 0, 0, 0, 1, 0},
        [CMK_NAME_ACCOUNT] = {"Foundry resource (account) name", 2, 64, "-", 2, 1, 0, 0, 0},
        [CMK_NAME_WORKSPACE] = {"workspace name", 3, 33, "-_", 2, 0, 0, 0, 0},
        [CMK_NAME_UAI] = {"user-assigned identity name", 3, 128, "-_", 2, 0, 0, 0, 0},
        [CMK_NAME_STORAGE] = {"storage account name", 3, 24, "", 0, 0, 0, 0, 1},
        [CMK_NAME_SYSTEM_TOPIC] = {"Event Grid system topic name", 3, 128, "-", 0, 0, 0, 0, 0},
};

static const char *const rule_text[] = {
        [CMK_NAME_VAULT] = "3-24 letters, digits and hyphens, starting with a letter, ending "
                           "with a letter or digit, no two hyphens in a row",
        [CMK_NAME_KEY] = "1-127 letters, digits and hyphens",
        [CMK_NAME_VERSION] = "1-64 letters and digits (32 hexadecimal digits in Azure)",
        [CMK_NAME_RESOURCE_GROUP] = "1-90 letters, digits, '-', '_', '.', '(' and ')', not "
                                    "ending with '.'",
        [CMK_NAME_ACCOUNT] = "2-64 letters, digits and hyphens, starting and ending with a "
                             "letter or digit",
        [CMK_NAME_WORKSPACE] = "3-33 letters, digits, '-' and '_', starting with a letter or "
                               "digit",
        [CMK_NAME_UAI] = "3-128 letters, digits, '-' and '_', starting with a letter or digit",
        [CMK_NAME_STORAGE] = "3-24 lower-case letters and digits",
        [CMK_NAME_SYSTEM_TOPIC] = "3-128 letters, digits and hyphens",
};

int cmk_is_guid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (!s || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Whether s[0..len) follows rule; ASCII only (isalnum of the C locale). */
static int follows(const name_rule *r, const char *s, size_t len)
{
	if (len < r->min || len > r->max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x80 || (!isalnum(ch) && !strchr(r->extra, ch)) ||
		    (r->lower_only && isupper(ch)))
			return 0;
		if (r->no_double_hyphen && i > 0 && ch == '-' && s[i - 1] == '-')
			return 0;
	}
	if ((r->start == 1 && !isalpha((unsigned char)s[0])) ||
	    (r->start == 2 && !isalnum((unsigned char)s[0])))
		return 0;
	if (r->last_alnum && !isalnum((unsigned char)s[len - 1]))
		return 0;
	if (r->not_last_dot && s[len - 1] == '.')
		return 0;
	return 1;
}

int cmk_name_ok(cmk_name_kind kind, const char *name)
{
	if (kind == CMK_NAME_KEY)
		return azkv_kv_name_ok(name);
	if (kind == CMK_NAME_VERSION)
		return azkv_kv_version_ok(name);
	return name && follows(&rules[kind], name, strlen(name));
}

const char *cmk_name_rule(cmk_name_kind kind)
{
	return rule_text[kind];
}

/* The n-th '/'-separated segment of id (0: the one after the leading
 * '/'), its length in *len; NULL when there are fewer. */
static const char *segment(const char *id, int n, size_t *len)
{
	const char *p = id + 1;

	for (int i = 0; i < n; i++) {
		p = strchr(p, '/');
		if (!p)
			return NULL;
		p++;
	}
	*len = strcspn(p, "/");
	return p;
}

int cmk_arm_id_ok(const char *id, const char *provider, cmk_name_kind kind)
{
	char sub[40];
	const char *s;
	size_t len, plen = strlen(provider);

	if (!id || id[0] != '/' || strlen(id) > 1024)
		return 0;
	/* subscriptions/GUID/resourceGroups/RG/providers/NS/TYPE/NAME, no more */
	if (!(s = segment(id, 0, &len)) || len != 13 || strncasecmp(s, "subscriptions", 13) != 0)
		return 0;
	if (!(s = segment(id, 1, &len)) || len >= sizeof(sub))
		return 0;
	snprintf(sub, sizeof(sub), "%.*s", (int)len, s);
	if (!cmk_is_guid(sub))
		return 0;
	if (!(s = segment(id, 2, &len)) || len != 14 || strncasecmp(s, "resourceGroups", 14) != 0)
		return 0;
	if (!(s = segment(id, 3, &len)) || !follows(&rules[CMK_NAME_RESOURCE_GROUP], s, len))
		return 0;
	if (!(s = segment(id, 4, &len)) || len != 9 || strncasecmp(s, "providers", 9) != 0)
		return 0;
	/* NS/TYPE is provider, compared whole (it holds one '/'). */
	s = segment(id, 5, &len);
	if (!s || strncasecmp(s, provider, plen) != 0 || s[plen] != '/')
		return 0;
	s = segment(id, 7, &len);
	return s && s[len] == '\0' && follows(&rules[kind], s, len);
}

/* A usage error for a bad name or id from option opt. */
static int bad(cmk_ctx *c, const char *opt, const char *value, cmk_name_kind kind,
               const char *provider)
{
	char fix[512];

	if (provider)
		snprintf(fix, sizeof(fix),
		         "give the name (%s) or the ARM id "
		         "/subscriptions/GUID/resourceGroups/RG/providers/%s/NAME, with nothing "
		         "after it",
		         rule_text[kind], provider);
	else
		snprintf(fix, sizeof(fix), "a %s is %s", rules[kind].what, rule_text[kind]);
	return cmk_fail(c, CMK_EXIT_USAGE, fix, "%s \"%s\" is not a valid %s%s", opt, value,
	                rules[kind].what, provider ? " or ARM id" : "");
}

/* A name or the ARM id of one resource of provider (the two forms
 * --vault, --account and --workspace take). */
static int check_resource(cmk_ctx *c, const char *opt, const char *value, cmk_name_kind kind,
                          const char *provider)
{
	if (!value)
		return CMK_EXIT_OK;
	if (value[0] == '/') {
		char id[1100];
		size_t len = strlen(value);

		/* cmk_resource_id drops trailing slashes; so does this check. */
		while (len > 1 && value[len - 1] == '/')
			len--;
		if (len >= sizeof(id))
			return bad(c, opt, value, kind, provider);
		snprintf(id, sizeof(id), "%.*s", (int)len, value);
		return cmk_arm_id_ok(id, provider, kind) ? CMK_EXIT_OK
		                                         : bad(c, opt, value, kind, provider);
	}
	return cmk_name_ok(kind, value) ? CMK_EXIT_OK : bad(c, opt, value, kind, provider);
}

int cmk_check_options(cmk_ctx *c)
{
	const cmk_opts *o = c->o;
	int rc;

	if (c->sub && !cmk_is_guid(c->sub))
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "a subscription is named by its id, a GUID (az account list "
		                "--query '[].id')",
		                "subscription \"%s\" (from %s) is not a GUID", c->sub,
		                o->subscription ? "--subscription"
		                                : "the configuration or AZURE_SUBSCRIPTION_ID");
	if (o->principal && !cmk_is_guid(o->principal))
		return cmk_fail(c, CMK_EXIT_USAGE,
		                "give the identity's object (principal) id, a GUID: az ad sp show "
		                "--id CLIENT_ID --query id",
		                "--principal \"%s\" is not a GUID", o->principal);
	if (o->resource_group && !cmk_name_ok(CMK_NAME_RESOURCE_GROUP, o->resource_group))
		return bad(c, "--resource-group", o->resource_group, CMK_NAME_RESOURCE_GROUP, NULL);
	if (o->key && !cmk_name_ok(CMK_NAME_KEY, o->key))
		return bad(c, "--key", o->key, CMK_NAME_KEY, NULL);
	if (o->key_version && !cmk_name_ok(CMK_NAME_VERSION, o->key_version))
		return bad(c, "--key-version", o->key_version, CMK_NAME_VERSION, NULL);
	if (o->to_version && !cmk_name_ok(CMK_NAME_VERSION, o->to_version))
		return bad(c, "--to-version", o->to_version, CMK_NAME_VERSION, NULL);
	rc = check_resource(c, "--vault", o->vault, CMK_NAME_VAULT, CMK_PROVIDER_VAULT);
	if (rc == CMK_EXIT_OK)
		rc = check_resource(c, "--account", o->account, CMK_NAME_ACCOUNT,
		                    CMK_PROVIDER_ACCOUNT);
	if (rc == CMK_EXIT_OK)
		rc = check_resource(c, "--workspace", o->workspace, CMK_NAME_WORKSPACE,
		                    CMK_PROVIDER_WORKSPACE);
	if (rc == CMK_EXIT_OK)
		rc = cmk_check_combinations(c);
	if (rc == CMK_EXIT_OK)
		rc = cmk_projects_check_options(c);
	return rc;
}
