/* azkv-cmk: command line. Options may come before or after the command
 * (as with az); each command accepts only the options that mean something
 * to it, so a typo or a misplaced option is an error, not ignored. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmk.h"
#include "../whole_number.h"

enum {
	OPT_JSON = 1000,
	OPT_VAULT,
	OPT_KEY,
	OPT_KEY_VERSION,
	OPT_ACCOUNT,
	OPT_WORKSPACE,
	OPT_IDENTITY,
	OPT_PRINCIPAL,
	OPT_MODEL,
	OPT_EXACT,
	OPT_VERSIONLESS,
	OPT_TO_VERSION,
	OPT_DISABLE_KEY,
	OPT_ROTATE_AFTER,
	OPT_EXPIRE_AFTER,
	OPT_NOTIFY_BEFORE,
	OPT_SIZE,
	OPT_HSM,
	OPT_MODULE,
	OPT_NO_PROVE,
	OPT_EXPIRING_DAYS,
	OPT_LOCATION,
	OPT_TENANT,
	OPT_RETENTION_DAYS,
	OPT_FIREWALL,
	OPT_MICROSOFT_MANAGED,
	OPT_VERSION,
	OPT_CLOUD,
	OPT_STORAGE_ACCOUNT,
	OPT_EVENT_HUB_RULE,
	OPT_NAME,
	OPT_PROJECT,
	OPT_FOR,
	OPT_HUB,
	OPT_STORAGE,
	OPT_QUERY,
};

static const struct option long_opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"cloud", required_argument, NULL, OPT_CLOUD},
        {"subscription", required_argument, NULL, 's'},
        {"resource-group", required_argument, NULL, 'g'},
        {"json", no_argument, NULL, OPT_JSON},
        {"dry-run", no_argument, NULL, 'n'},
        {"yes", no_argument, NULL, 'y'},
        {"output", required_argument, NULL, 'o'},
        {"query", required_argument, NULL, OPT_QUERY},
        {"verbose", no_argument, NULL, 'v'},
        {"debug", no_argument, NULL, 'v'}, /* az's name for it */
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"vault", required_argument, NULL, OPT_VAULT},
        {"key", required_argument, NULL, OPT_KEY},
        {"key-version", required_argument, NULL, OPT_KEY_VERSION},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"workspace", required_argument, NULL, OPT_WORKSPACE},
        {"identity", required_argument, NULL, OPT_IDENTITY},
        {"principal", required_argument, NULL, OPT_PRINCIPAL},
        {"model", required_argument, NULL, OPT_MODEL},
        {"exact", no_argument, NULL, OPT_EXACT},
        {"versionless", no_argument, NULL, OPT_VERSIONLESS},
        {"to-version", required_argument, NULL, OPT_TO_VERSION},
        {"disable-key", no_argument, NULL, OPT_DISABLE_KEY},
        {"rotate-after", required_argument, NULL, OPT_ROTATE_AFTER},
        {"expire-after", required_argument, NULL, OPT_EXPIRE_AFTER},
        {"notify-before", required_argument, NULL, OPT_NOTIFY_BEFORE},
        {"size", required_argument, NULL, OPT_SIZE},
        {"hsm", no_argument, NULL, OPT_HSM},
        {"module", required_argument, NULL, OPT_MODULE},
        {"no-prove", no_argument, NULL, OPT_NO_PROVE},
        {"expiring-days", required_argument, NULL, OPT_EXPIRING_DAYS},
        {"location", required_argument, NULL, OPT_LOCATION},
        {"tenant", required_argument, NULL, OPT_TENANT},
        {"retention-days", required_argument, NULL, OPT_RETENTION_DAYS},
        {"firewall", no_argument, NULL, OPT_FIREWALL},
        {"microsoft-managed", no_argument, NULL, OPT_MICROSOFT_MANAGED},
        {"storage-account", required_argument, NULL, OPT_STORAGE_ACCOUNT},
        {"event-hub-rule", required_argument, NULL, OPT_EVENT_HUB_RULE},
        {"name", required_argument, NULL, OPT_NAME},
        {"project", required_argument, NULL, OPT_PROJECT},
        {"for", required_argument, NULL, OPT_FOR},
        {"hub", required_argument, NULL, OPT_HUB},
        {"storage", required_argument, NULL, OPT_STORAGE},
        {NULL, 0, NULL, 0},
};

typedef struct command {
	const char *name;
	int (*run)(cmk_ctx *c);
	int mutating;          /* takes --dry-run */
	const char *const *ok; /* command-specific options it takes */
} command;

static const char *const check_opts[] = {"key-version", "account",   "workspace",
                                         "identity",    "principal", "expiring-days",
                                         "project",     "hub",       NULL};
static const char *const grant_opts[] = {"account", "workspace", "identity", "principal",
                                         "model",   "exact",     "project",  NULL};
static const char *const revoke_opts[] = {"account",   "workspace",   "identity",
                                          "principal", "disable-key", "key-version",
                                          "yes",       "project",     NULL};
static const char *const bind_opts[] = {"key-version", "account",           "workspace", "identity",
                                        "versionless", "microsoft-managed", NULL};
static const char *const rotate_opts[] = {"account", "workspace", "identity", "to-version",
                                          "module",  "no-prove",  NULL};
static const char *const status_opts[] = {"account",       "workspace", "identity", "principal",
                                          "expiring-days", "project",   "hub",      NULL};
static const char *const policy_opts[] = {"rotate-after", "expire-after", "notify-before", NULL};
static const char *const create_opts[] = {"size",         "hsm",           "rotate-after",
                                          "expire-after", "notify-before", NULL};

static const char *const audit_opts[] = {"workspace", "storage-account", "event-hub-rule", "name",
                                         NULL};
static const char *const follow_opts[] = {"account", "workspace", "identity",
                                          "module",  "no-prove",  NULL};

static const char *const vault_opts[] = {
        "location", "tenant", "retention-days", "firewall", "model", "hsm", "for", NULL};

static const char *const create_account_opts[] = {"account",     "identity",    "location",
                                                  "key-version", "versionless", NULL};
static const char *const create_hub_opts[] = {"hub",         "identity",    "location", "storage",
                                              "key-version", "versionless", NULL};

static const command commands[] = {
        {"create-vault", cmk_cmd_create_vault, 1, vault_opts},
        {"check", cmk_cmd_check, 0, check_opts},
        {"grant", cmk_cmd_grant, 1, grant_opts},
        {"bind", cmk_cmd_bind, 1, bind_opts},
        {"rotate", cmk_cmd_rotate, 1, rotate_opts},
        {"revoke", cmk_cmd_revoke, 1, revoke_opts},
        {"status", cmk_cmd_status, 0, status_opts},
        {"rotation-policy", cmk_cmd_rotation_policy, 1, policy_opts},
        {"create-key", cmk_cmd_create_key, 1, create_opts},
        {"audit", cmk_cmd_audit, 1, audit_opts},
        {"follow", cmk_cmd_follow, 1, follow_opts},
        {"create-account", cmk_cmd_create_account, 1, create_account_opts},
        {"create-hub", cmk_cmd_create_hub, 1, create_hub_opts},
};

static const command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* Options every command takes. */
static int is_common(const char *name)
{
	static const char *const common[] = {
	        "config",  "cloud", "subscription", "resource-group", "json",  "output", "query",
	        "verbose", "debug", "quiet",        "help",           "vault", "key",    NULL};

	for (size_t i = 0; common[i]; i++) {
		if (strcmp(common[i], name) == 0)
			return 1;
	}
	return 0;
}

static int takes(const command *cmd, const char *name)
{
	if (is_common(name) || (strcmp(name, "dry-run") == 0 && cmd->mutating))
		return 1;
	for (size_t i = 0; cmd->ok[i]; i++) {
		if (strcmp(cmd->ok[i], name) == 0)
			return 1;
	}
	return 0;
}

static int usage_error(const char *message, const char *cmd_name)
{
	fprintf(stderr, "%s %s\n  see: azkv-cmk %s%s--help\n", cmk_error_prefix(), message,
	        cmd_name ? cmd_name : "", cmd_name ? " " : "");
	return CMK_EXIT_USAGE;
}

/* An option whose value is a whole number, checked once the command is
 * known (a usage error then names the command's help). */
typedef struct number_option {
	const char *name;
	long min, max;
	long *out;
	const char *value; /* as given, NULL when not */
} number_option;

/* A whole number from min to max (whole_number.h); else a usage error
 * naming the option and the value. */
static int parse_number(const char *cmd_name, const number_option *n)
{
	char msg[512];

	if (whole_number(n->value, n->min, n->max, n->out))
		return CMK_EXIT_OK;
	snprintf(msg, sizeof(msg), "--%s \"%.100s\" is not a whole number from %ld to %ld", n->name,
	         n->value, n->min, n->max);
	return usage_error(msg, cmd_name);
}

int main(int argc, char **argv)
{
	cmk_opts o = {.expiring_days = 30};
	number_option numbers[] = {
	        /* Bits: create-key refuses all but 2048, saying why. */
	        {"size", 1, 65536, &o.key_size, NULL},
	        /* Days, up to a century. */
	        {"expiring-days", 0, 36500, &o.expiring_days, NULL},
	        /* A vault's soft-delete retention: Azure's range. */
	        {"retention-days", 7, 90, &o.retention_days, NULL},
	};
	const char *used[64];
	size_t n_used = 0;
	const command *cmd;
	char msg[512];
	int opt, idx, help = 0, rc;
	const char *query = NULL;
	cmk_ctx c;

	while ((opt = getopt_long(argc, argv, "c:s:g:nyvqho:", long_opts, &idx)) != -1) {
		const char *name = NULL;

		for (size_t i = 0; long_opts[i].name; i++) {
			if (long_opts[i].val == opt)
				name = long_opts[i].name;
		}
		if (opt == '?')
			return usage_error("bad option (see above)", NULL);
		if (name && n_used < 64)
			used[n_used++] = name;
		for (size_t i = 0; name && i < sizeof(numbers) / sizeof(*numbers); i++) {
			if (strcmp(numbers[i].name, name) == 0)
				numbers[i].value = optarg;
		}
		switch (opt) {
		case 'c':
			o.config = optarg;
			break;
		case OPT_CLOUD:
			o.cloud = optarg;
			break;
		case 's':
			o.subscription = optarg;
			break;
		case 'g':
			o.resource_group = optarg;
			break;
		case OPT_JSON:
			o.output = CMK_OUTPUT_JSON;
			break;
		case 'o':
			if (cmk_output_parse(optarg, &o.output) != 0) {
				char forms[128];

				snprintf(msg, sizeof(msg), "--output \"%.100s\" is not one of %s",
				         optarg, cmk_output_names(forms, sizeof(forms)));
				return usage_error(msg, NULL);
			}
			break;
		case OPT_QUERY:
			query = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'y':
			o.yes = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			help = 1;
			break;
		case OPT_VERSION:
			printf("azkv-cmk %s\n", PACKAGE_VERSION);
			return CMK_EXIT_OK;
		case OPT_VAULT:
			o.vault = optarg;
			break;
		case OPT_KEY:
			o.key = optarg;
			break;
		case OPT_KEY_VERSION:
			o.key_version = optarg;
			break;
		case OPT_ACCOUNT:
			o.account = optarg;
			break;
		case OPT_WORKSPACE:
			o.workspace = optarg;
			break;
		case OPT_IDENTITY:
			o.identity = optarg;
			break;
		case OPT_PRINCIPAL:
			o.principal = optarg;
			break;
		case OPT_MODEL:
			o.model = optarg;
			break;
		case OPT_EXACT:
			o.exact = 1;
			break;
		case OPT_VERSIONLESS:
			o.versionless = 1;
			break;
		case OPT_TO_VERSION:
			o.to_version = optarg;
			break;
		case OPT_DISABLE_KEY:
			o.disable_key = 1;
			break;
		case OPT_ROTATE_AFTER:
			o.rotate_after = optarg;
			break;
		case OPT_EXPIRE_AFTER:
			o.expire_after = optarg;
			break;
		case OPT_NOTIFY_BEFORE:
			o.notify_before = optarg;
			break;
		case OPT_HSM:
			o.hsm = 1;
			break;
		case OPT_MODULE:
			o.module = optarg;
			break;
		case OPT_NO_PROVE:
			o.no_prove = 1;
			break;
		case OPT_LOCATION:
			o.location = optarg;
			break;
		case OPT_TENANT:
			o.tenant = optarg;
			break;
		case OPT_FIREWALL:
			o.firewall = 1;
			break;
		case OPT_MICROSOFT_MANAGED:
			o.microsoft_managed = 1;
			break;
		case OPT_STORAGE_ACCOUNT:
			o.audit_storage = optarg;
			break;
		case OPT_EVENT_HUB_RULE:
			o.audit_event_hub = optarg;
			break;
		case OPT_NAME:
			o.setting_name = optarg;
			break;
		case OPT_PROJECT:
			o.project = optarg;
			break;
		case OPT_FOR:
			o.vault_for = optarg;
			break;
		case OPT_HUB:
			o.hub = optarg;
			break;
		case OPT_STORAGE:
			o.storage = optarg;
			break;
		default:
			break;
		}
	}
	if (optind >= argc) {
		if (help) {
			cmk_usage(stdout);
			return CMK_EXIT_OK;
		}
		cmk_usage(stderr);
		return CMK_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0)
		return cmk_help(optind + 1 < argc ? argv[optind + 1] : NULL);
	cmd = find_command(argv[optind]);
	if (!cmd) {
		snprintf(msg, sizeof(msg), "unknown command \"%s\"", argv[optind]);
		return usage_error(msg, NULL);
	}
	if (help)
		return cmk_help(cmd->name);
	o.command = cmd->name;
	if ((strcmp(cmd->name, "rotation-policy") == 0 || strcmp(cmd->name, "audit") == 0) &&
	    optind + 1 < argc)
		o.subcommand = argv[++optind];
	/* For audit, --workspace is the Log Analytics workspace the audit
	 * events go to (as the issue names it), not a Foundry hub. */
	if (strcmp(cmd->name, "audit") == 0) {
		o.audit_workspace = o.workspace;
		o.workspace = NULL;
	}
	if (optind + 1 < argc) {
		snprintf(msg, sizeof(msg), "unexpected argument \"%s\"", argv[optind + 1]);
		return usage_error(msg, cmd->name);
	}
	for (size_t i = 0; i < n_used; i++) {
		if (!takes(cmd, used[i])) {
			snprintf(msg, sizeof(msg), "%s does not take --%s", cmd->name, used[i]);
			return usage_error(msg, cmd->name);
		}
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(*numbers); i++) {
		if (numbers[i].value && (rc = parse_number(cmd->name, &numbers[i])) != CMK_EXIT_OK)
			return rc;
	}
	/* --key NAME/VERSION */
	if (o.key && strchr(o.key, '/')) {
		static char name[256];

		if (o.key_version)
			return usage_error(
			        "give the version once: --key NAME/VERSION or --key-version",
			        cmd->name);
		snprintf(name, sizeof(name), "%.*s", (int)(strchr(o.key, '/') - o.key), o.key);
		o.key_version = strchr(o.key, '/') + 1;
		o.key = name;
	}
	/* Compiled before anything is sent: a bad query changes nothing. A
	 * query asks for a document: JSON unless another form is named. */
	if (query) {
		char why[400];

		o.query = cmk_query_compile(query, why, sizeof(why));
		if (!o.query) {
			snprintf(msg, sizeof(msg), "--query: %s", why);
			return usage_error(msg, cmd->name);
		}
		if (o.output == CMK_OUTPUT_TEXT)
			o.output = CMK_OUTPUT_JSON;
	}
	o.json = o.output != CMK_OUTPUT_TEXT;
	rc = cmk_ctx_open(&c, &o);
	if (rc == CMK_EXIT_OK)
		rc = cmk_check_options(&c);
	if (rc == CMK_EXIT_OK)
		rc = cmd->run(&c);
	rc = cmk_finish(&c, rc);
	cmk_ctx_close(&c);
	cmk_query_free(o.query);
	return rc;
}
