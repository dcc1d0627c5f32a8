/* azkv-cmk --help texts: the tool's manual, one page per command. */
#include <stdio.h>
#include <string.h>

#include "cmk.h"

static const char overview[] =
        "usage: azkv-cmk [options] <command> [command options]\n"
        "\n"
        "Customer-managed keys (CMK) for Azure AI Foundry, done right: checks the vault and\n"
        "key against Foundry's rules, grants the resource's managed identity exactly get,\n"
        "wrapKey and unwrapKey, binds the resource to the key, rotates, revokes, and reports\n"
        "drift.\n"
        "\n"
        "Commands:\n"
        "  create-vault     create a Foundry-ready key vault (lab task 1)\n"
        "  check            judge vault, key, resource and identity against every CMK rule\n"
        "  grant            give the identity least-privilege access to the key\n"
        "  bind             point the resource's encryption at the key\n"
        "  rotate           new key version (or --to-version), rebind, prove it works\n"
        "  follow           rebind to the version the rotation policy made (for a timer)\n"
        "  revoke           take the identity's access away (or disable the key)\n"
        "  status           binding, versions, grants, rotation policy, and drift\n"
        "  rotation-policy  show or set the key's rotation policy\n"
        "  create-key       create a Foundry-ready key (RSA 2048, wrapKey/unwrapKey)\n"
        "  audit            show or enable the vault's audit logs (diagnostic settings)\n"
        "  create-account   create a Foundry resource with CMK from the start\n"
        "  create-hub       create an AI hub with CMK (its encryption is fixed at creation)\n"
        "  help COMMAND     the manual of one command (also: COMMAND --help)\n"
        "  help TOPIC       projects (--project, status --account), permission-model\n"
        "\n"
        "Options for every command:\n"
        "  -c, --config FILE        the module's configuration (credential, http, arm);\n"
        "                           default $AZKV_PKCS11_CONFIG, else the system file if\n"
        "                           there is one, else none: the default credential\n"
        "                           (environment, workload identity, managed identity,\n"
        "                           then your 'az login')\n"
        "      --cloud NAME         AzureCloud (default), AzureChinaCloud, AzureUSGovernment\n"
        "                           (as 'az cloud set'); default: the configuration's\n"
        "  -s, --subscription ID    default: config arm.subscription_id, $AZURE_SUBSCRIPTION_ID,\n"
        "                           else az account show\n"
        "  -g, --resource-group RG  where --vault/--account/--workspace names are\n"
        "      --vault NAME|ID      the key vault (name in RG, or its ARM id)\n"
        "      --key NAME[/VERSION] the key\n"
        "  -o, --output FORM        the command's document on stdout, as az writes it:\n"
        "                           json, jsonc (coloured on a terminal), table, tsv,\n"
        "                           yaml, none (messages go to stderr); default: text\n"
        "      --json               --output json\n"
        "      --query JMESPATH     only this part of the document (implies --output json\n"
        "                           unless another form is given); see azkv-cmk(1)\n"
        "  -v, --verbose, --debug   log each request to stderr\n"
        "  -q, --quiet              no progress messages\n"
        "  -h, --help               this text, or the command's\n"
        "      --version            the version\n"
        "  -n, --dry-run            (changing commands) print the exact requests, method,\n"
        "                           URL and body, that would be sent; change nothing\n"
        "\n"
        "Exit codes:\n"
        "  0  success (check: no rule failed; status: no drift)\n"
        "  1  check: a rule failed; status: drift found\n"
        "  2  usage error\n"
        "  3  refused: Azure forbids it or a precondition fails; nothing was changed\n"
        "  4  authentication or authorization failed\n"
        "  5  not found (vault, key, resource, identity)\n"
        "  6  network or service error\n"
        "  7  not confirmed (revoke without --yes)\n"
        "  8  configuration error\n";

static const struct {
	const char *name;
	const char *text;
} pages[] = {
        {"check",
         "usage: azkv-cmk check --vault V --key K[/VERSION] [--account A | --workspace W |\n"
         "                      --hub HUB [--account A]]\n"
         "                      [--identity system|ID] [--principal OBJECT_ID]\n"
         "\n"
         "Judges each Foundry CMK rule pass, warn or fail, with the fix:\n"
         "  vault.soft-delete, vault.purge-protection   both must be on\n"
         "  vault.network          the path Foundry takes through the firewall: trusted\n"
         "                         Microsoft services, Private Link (an approved private\n"
         "                         endpoint connection; pending or rejected ones do not\n"
         "                         count), both, or public access (warns)\n"
         "  vault.retention        deleted vaults kept 90 days (fewer, as the lab's 7, warns)\n"
         "  resource.approval-form Speech and Content Moderator need Microsoft's form first\n"
         "  identity.abac-condition, identity.deny-assignments   what the grant analysis\n"
         "                         cannot judge, said (also in status)\n"
         "  vault.permission-model Azure RBAC or access policies\n"
         "  key.type, key.size     RSA or RSA-HSM, 2048 bits (3072/4096 are refused)\n"
         "  key.enabled, key.expiry, key.not-before, key.operations (wrapKey, unwrapKey)\n"
         "  key.rotation-policy, key.expiry-after-rotation\n"
         "  resource.region, resource.tenant   same as the vault's\n"
         "  resource.identity      a managed identity exists\n"
         "  resource.same-vault    an existing binding is in the same vault\n"
         "  resource.cmk-at-creation  (hubs) CMK was chosen at creation\n"
         "  identity.grant         the identity can get, wrapKey and unwrapKey\n"
         "  identity.least-privilege  grants broader than that\n"
         "  vault.audit-logs       (warns) a diagnostic setting sends the audit events\n"
         "                         (AuditEvent) somewhere; fix: azkv-cmk audit enable\n"
         "  key.near-expiry-listener  (warns) an Event Grid subscription hears the\n"
         "                         rotation policy's Notify (KeyNearExpiry)\n"
         "Reads only. Exit 1 when a rule fails.\n"
         "  --expiring-days N      warn when the key expires within N days (30)\n"
         "  --hub HUB [--account A]  a hub, and each of its top-level resources:\n"
         "    hub.cmk, hub.storage-cmk (its storageAccount), hub.foundry-cmk (A, its\n"
         "    Foundry resource), hub.data-location (service-side, or the legacy managed\n"
         "    resource group), hub.key-vault / application-insights / container-registry\n"
         "    (named, not judged). A hub's user-assigned encryption identity is used.\n"},
        {"grant",
         "usage: azkv-cmk grant --vault V --key K (--account A | --workspace W | --principal ID)\n"
         "                      [--identity system|CLIENT_ID|RESOURCE_ID] [--exact] [--dry-run]\n"
         "\n"
         "Gives the resource's managed identity (system-assigned by default) exactly what\n"
         "Foundry needs on this key, under the vault's permission model:\n"
         "  Azure RBAC: \"Key Vault Crypto Service Encryption User\" (get, wrapKey, unwrapKey)\n"
         "              at the KEY's scope (a role assignment named from scope, principal\n"
         "              and role, so running twice creates one);\n"
         "  access policies: a policy with keys get, wrapKey, unwrapKey (only the missing\n"
         "              ones are added; --exact replaces the policy with exactly those).\n"
         "Idempotent: when the grant exists nothing is sent. Over-broad grants found (Key\n"
         "Vault Crypto User, Administrator, vault/RG/subscription scope, extra policy\n"
         "permissions) are reported, not removed.\n"
         "  --model rbac|access-policy  refuse unless the vault uses this model\n"},
        {"bind",
         "usage: azkv-cmk bind --vault V --key K[/VERSION] (--account A | --workspace HUB)\n"
         "                     [--identity system|CLIENT_ID|RESOURCE_ID] [--versionless]\n"
         "                     [--dry-run]\n"
         "       azkv-cmk bind --microsoft-managed (--account A | --workspace HUB)\n"
         "\n"
         "Sets the resource's encryption to the key (by default its current version, as\n"
         "the portal does) and waits for the long-running operation, showing progress.\n"
         "--versionless names no version: Foundry then keeps the version current at\n"
         "binding and does NOT follow new ones (run follow after each rotation); Azure\n"
         "does not report which version that is. First every check rule must pass,\n"
         "including the grant: a resource cannot be bound before its identity exists and\n"
         "holds get/wrapKey/unwrapKey. Refused, with the reason (exit 3):\n"
         "  - a key in another vault than the one the resource already uses;\n"
         "  - a hub created with Microsoft-managed keys (fixed at creation);\n"
         "  - a project (it uses its hub's encryption);\n"
         "  - a missing managed identity or grant; any failing rule.\n"
         "  --microsoft-managed  asks for the way back to Microsoft-managed keys: refused\n"
         "                 once a customer-managed key is in use, as Azure refuses it.\n"},
        {"rotate",
         "usage: azkv-cmk rotate (--account A | --workspace HUB) [--vault V --key K]\n"
         "                       [--to-version VERSION] [--module PATH] [--no-prove]\n"
         "                       [--dry-run]\n"
         "\n"
         "Creates a new version of the key (or takes --to-version), binds the resource to\n"
         "it (Foundry never follows new versions by itself), reads the resource back,\n"
         "and proves the version works: through the PKCS#11 module (--module, default the\n"
         "installed azkv-pkcs11.so) and its CMK extension it refreshes the token, finds\n"
         "the new current version, wraps a random key with it and unwraps it in the vault.\n"
         "The proof needs the configured identity to hold unwrapKey; --no-prove skips it.\n"
         "Without --vault/--key, the resource's current binding names them. Rotation does\n"
         "not re-encrypt: data written under an older version stays under it, readable\n"
         "only while that version is enabled (status lists them).\n"},
        {"revoke",
         "usage: azkv-cmk revoke --vault V --key K (--account A | --workspace W | --principal ID)\n"
         "                       [--disable-key [--key-version V]] [--yes] [--dry-run]\n"
         "\n"
         "First prints what stops working: downloading training data and results files,\n"
         "fine-tuning new models, deploying fine-tuned models (deployed ones keep serving\n"
         "until deleted). Then, after confirmation (type yes, or --yes for scripts):\n"
         "  default        removes the identity's role assignments on the key and the\n"
         "                 vault and the key permissions of its access policy;\n"
         "  --disable-key  disables the bound (or --key-version) version for everyone;\n"
         "                 an older version may still protect data written while it was\n"
         "                 bound (rotation does not re-encrypt): revoke says so first.\n"
         "Refused (exit 3, nothing changed) while a grant above the vault (resource group,\n"
         "subscription) would keep the access alive. Exit 7 when not confirmed.\n"},
        {"status",
         "usage: azkv-cmk status [--account A | --workspace W | --hub HUB] [--vault V --key K]\n"
         "                       [--principal ID] [--expiring-days N]\n"
         "\n"
         "Shows what the resource is bound to, the key's versions (current, enabled,\n"
         "expiry, which one is bound), the identity's grants and the rotation policy, and\n"
         "the drift: bound version not the current one, bound version disabled or\n"
         "expired, grant missing or over-broad, a version expiring within N days (30), a\n"
         "binding with no version (Foundry does not follow new ones). It lists the older\n"
         "versions that may still protect data written while they were bound (rotation\n"
         "does not re-encrypt), and drift when one is disabled (an expired one gets a\n"
         "note: Key Vault still unwraps with it). Azure keeps no record of past\n"
         "bindings: it counts every version older than the bound one.\n"
         "Without --vault/--key, the resource's binding names them. Exit 1 on drift;\n"
         "when a part cannot be read (versions, grants, projects), the others are still\n"
         "shown and the exit code is that failure's (4 auth, 6 service).\n"
         "For a hub (--hub or --workspace): where its CMK data is kept, service-side or\n"
         "in the legacy managed resource group azureml-rg-HUB_GUID, whose Cosmos DB, AI\n"
         "Search and Storage must not be changed (firewall, disableLocalAuth).\n"},
        {"rotation-policy",
         "usage: azkv-cmk rotation-policy show --vault V --key K\n"
         "       azkv-cmk rotation-policy set  --vault V --key K [--rotate-after DURATION]\n"
         "                [--expire-after DURATION] [--notify-before DURATION] [--dry-run]\n"
         "\n"
         "DURATION is ISO 8601 in days, weeks, months or years: P90D, P2W, P6M, P1Y.\n"
         "set keeps what is not given, and refuses an expiry that comes before the next\n"
         "rotation (versions would expire with no successor). The lab's policy:\n"
         "  --rotate-after P6M --expire-after P210D\n"},
        {"create-vault",
         "usage: azkv-cmk create-vault --vault NAME -g RG --location REGION [--firewall]\n"
         "                             [--model rbac|access-policy] [--retention-days N]\n"
         "                             [--tenant ID] [--hsm] [--dry-run]\n"
         "\n"
         "Creates a key vault Foundry accepts: soft delete (N days, 90 by default) and purge\n"
         "protection on, Azure RBAC (or access policies), trusted Microsoft services let\n"
         "through the firewall (--firewall also denies everything else; otherwise public\n"
         "access stays on, as in the lab). The region must be the Foundry resource's; the\n"
         "tenant is the configured credential's. --hsm picks the premium SKU (RSA-HSM\n"
         "keys). A vault that exists is left alone: judge it with check. A name held by a\n"
         "soft-deleted vault is refused (exit 3) with how to recover or purge it.\n"},
        {"audit",
         "usage: azkv-cmk audit status --vault V [--key K]\n"
         "       azkv-cmk audit enable --vault V --workspace LOG_ANALYTICS_WORKSPACE_ID\n"
         "                [--storage-account ID] [--event-hub-rule ID] [--name SETTING]\n"
         "                [--dry-run]\n"
         "\n"
         "status shows the vault's diagnostic settings, where its audit events (Key Vault's\n"
         "AuditEvent log) go, and the Event Grid subscriptions that hear\n"
         "Microsoft.KeyVault.KeyNearExpiry (--key: those that hear it for that key). Exit 1\n"
         "when the audit events go nowhere.\n"
         "enable makes a diagnostic setting (SETTING, default azkv-cmk-audit; an existing\n"
         "one of that name keeps what it has) send the category group audit to each\n"
         "destination that does not get it yet; nothing is sent when all do. Here\n"
         "--workspace is a Log Analytics workspace's ARM id\n"
         "(/subscriptions/GUID/resourceGroups/RG/providers/Microsoft.OperationalInsights/\n"
         "workspaces/NAME), --storage-account a storage account's, --event-hub-rule an\n"
         "Event Hubs namespace's authorization rule's (.../namespaces/NS/\n"
         "authorizationrules/RULE); anything else is a usage error (exit 2).\n"},
        {"follow",
         "usage: azkv-cmk follow (--account A | --workspace HUB) [--module PATH] [--no-prove]\n"
         "                       [--dry-run]\n"
         "\n"
         "For a timer or cron. Foundry does not follow new key versions by itself: after\n"
         "each rotation the resource must be updated to the new version. When the key's\n"
         "current version (made by its rotation policy, or by hand) is not the bound one,\n"
         "follow rebinds, verifies and proves it exactly as rotate --to-version does; a\n"
         "binding with no version is bound to the current version. New data then uses it;\n"
         "data written before stays under the older version (no re-encryption).\n"
         "Exit 0 with \"Nothing to follow\" when already bound to the current version.\n"
         "Otherwise one line says why it cannot, nothing changed (exit 3): the resource is\n"
         "not bound to a customer-managed key, the current version is disabled, expired\n"
         "or not yet valid, the identity has no grant, or a rule fails. A key whose\n"
         "rotation policy does not rotate it is noted, not refused.\n"},
        {"create-key",
         "usage: azkv-cmk create-key --vault V --key K [--hsm] [--rotate-after D]\n"
         "                           [--expire-after D] [--notify-before D] [--dry-run]\n"
         "\n"
         "Creates an RSA (or RSA-HSM) 2048-bit key with operations wrapKey and unwrapKey,\n"
         "and sets its rotation policy when asked. A key that exists is left alone.\n"
         "--size other than 2048 is refused: Foundry accepts only 2048-bit keys.\n"},
        {"projects",
         "usage: azkv-cmk check|grant|status|revoke ... --account A --project P\n"
         "                [--identity system|CLIENT_ID|RESOURCE_ID]\n"
         "       azkv-cmk status --account A\n"
         "\n"
         "A Foundry project has a managed identity of its own, and Foundry's CMK reference\n"
         "says to grant the project's system-assigned identity get, wrapKey and unwrapKey.\n"
         "--project P (with --account) makes check, grant, status and revoke judge, grant\n"
         "or revoke that identity (--identity picks one of the project's user-assigned\n"
         "identities). The key and its binding stay the account's: a project has no\n"
         "encryption of its own, and bind takes no --project.\n"
         "status --account A without --project lists every project, its identities and\n"
         "whether each holds the grant; drift project.grant-missing (fix: the grant\n"
         "command with --project) and project.identity-missing.\n"
         "Refused: --project without --account or with --principal, or not 2-64 letters,\n"
         "digits, '_', '.', '-' (exit 2); an unknown project (exit 5); a project without a\n"
         "managed identity (exit 3).\n"},
        {"permission-model",
         "usage: azkv-cmk create-vault ... [--for account|hub] [--model rbac|access-policy]\n"
         "\n"
         "The vault's permission model follows the resource the key serves:\n"
         "  --account (Foundry resource)  Azure RBAC, as the lab sets it; access policies\n"
         "                                work but warn (vault.permission-model)\n"
         "  --workspace (hub)             access policies: the field notes report that hub\n"
         "                                CMK cannot use Azure RBAC; RBAC warns\n"
         "  neither                       RBAC passes, access policies warn; both name the\n"
         "                                hub case\n"
         "create-vault --for account|hub (default account) picks the model; --model still\n"
         "overrides. grant always grants under the vault's own model (a grant under the\n"
         "other would be ignored) and notes when it is not the one the kind wants.\n"},
        {"create-account",
         "usage: azkv-cmk create-account --account NAME --vault V --key K[/VERSION]\n"
         "                               --identity UAI --location REGION [--versionless]\n"
         "                               [--dry-run]\n"
         "\n"
         "Creates a Foundry resource (kind AIServices, project management on) that uses the\n"
         "key from the start. A system-assigned identity cannot be granted before its\n"
         "resource exists, so this uses the user-assigned identity UAI (a name in -g RG, or\n"
         "an ARM id), creating it when missing, grants it on the key as grant does, then\n"
         "creates the resource with keyVaultProperties.identityClientId naming it. The\n"
         "check rules run first (the grant excepted, which comes next): a failing rule,\n"
         "a UAI of another tenant than the vault (resource.tenant), a region other than\n"
         "the vault's, refuse it with nothing changed (exit 3). Binds the current version\n"
         "unless --key NAME/VERSION or --versionless. Nothing to do when the resource\n"
         "exists with this key; refused (exit 3) when it exists with Microsoft-managed keys\n"
         "(then: grant and bind) or another key.\n"},
        {"create-hub",
         "usage: azkv-cmk create-hub --hub NAME --vault V --key K[/VERSION] --identity UAI\n"
         "                           --location REGION [--storage NAME|ID] [--versionless]\n"
         "                           [--dry-run]\n"
         "\n"
         "Creates an AI hub (workspace of kind Hub) with the key, as create-account does:\n"
         "the user-assigned identity UAI (created when missing) is granted first, then the\n"
         "hub is created with encryption.identity.userAssignedIdentity and identityClientId\n"
         "naming it, the vault as its keyVault, --storage as its storageAccount, and its\n"
         "data kept service-side (enableServiceSideCMKEncryption, the recommended option).\n"
         "A hub's encryption is fixed at creation: this is the way to a CMK hub when one\n"
         "was made with Microsoft-managed keys (that one is refused, exit 3). The storage\n"
         "account needs the key too: check --hub says whether it has it.\n"},
};

void cmk_usage(FILE *f)
{
	fputs(overview, f);
}

int cmk_help(const char *command)
{
	if (!command) {
		cmk_usage(stdout);
		return CMK_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(pages) / sizeof(*pages); i++) {
		if (strcmp(pages[i].name, command) == 0) {
			fputs(pages[i].text, stdout);
			fputs("\nCommon options, --output, --query, --dry-run and exit codes: "
			      "azkv-cmk --help\n",
			      stdout);
			return CMK_EXIT_OK;
		}
	}
	fprintf(stderr, "azkv-cmk: error: no command \"%s\"\n  see: azkv-cmk --help\n", command);
	return CMK_EXIT_USAGE;
}
