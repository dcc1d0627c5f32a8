#!/bin/bash
# azkv-cmk create-account and create-hub (a Foundry resource or a hub made
# with a customer-managed key from the start, through a user-assigned
# identity granted first), check --hub (every top-level resource of a hub
# and whether it uses the key) and a hub's status (service-side data or the
# legacy managed resource group), against the emulator. Started like
# tests/cmk/run.sh; the helpers are lib.sh's.
set -u

HARNESS_NAME=cmk-create
# shellcheck source=lib.sh
. "$AZKV_TOP_SRCDIR/tests/cmk/lib.sh"

lab_setup || exit 1
UAIS="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
WS="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.MachineLearningServices/workspaces"
SA="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Storage/storageAccounts"
NEW="--vault labkv --key $KEY --location eastus"

# ------------------------------------------------------- create-account
create_account_dry_run() {
	unchanged expect 0 create-account $NEW --account fa-cmk --identity uai-fa --dry-run &&
		says "would send: PUT https://management.azure.com$UAIS/uai-fa\?api-version=" &&
		says 'would send: PUT .*/keys/aifoundry-encryption-key/providers/Microsoft.Authorization/roleAssignments/' &&
		says '"principalId": "\{principalId of uai-fa\}"' &&
		says 'would send: PUT .*/Microsoft.CognitiveServices/accounts/fa-cmk\?api-version=' &&
		says '"identityClientId": "\{clientId of uai-fa\}"' &&
		says '"allowProjectManagement": true'
}
run create_account_dry_run_changes_nothing create_account_dry_run

create_account() {
	expect 0 --json create-account $NEW --account fa-cmk --identity uai-fa &&
		json '.changed == true' &&
		arm GET "$UAIS/uai-fa" 2023-01-31 &&
		jq -e --slurpfile r "$WORK/last.json" \
			'.properties.clientId == $r[0].identity.clientId' "$WORK/arm.json" >/dev/null &&
		foundry fa-cmk '.keySource == "Microsoft.KeyVault" and .keyAccessible == true' &&
		expect 0 --json check --vault labkv --key "$KEY" --account fa-cmk &&
		json '.rules[] | select(.id == "identity.grant") | .status == "pass"' &&
		json '.rules[] | select(.id == "resource.tenant") | .status == "pass"' &&
		json '.rules[] | select(.id == "resource.identity") | .message | test("user-assigned identity .*uai-fa")' &&
		unchanged expect 0 create-account $NEW --account fa-cmk --identity uai-fa &&
		says 'Nothing to do: .*fa-cmk already exists and uses key'
}
run create_account_with_cmk_then_idempotent create_account

refuse_existing_mmk_account() {
	unchanged expect 3 create-account $NEW --account "$ACCOUNT" --identity uai-fa &&
		says 'already exists with Microsoft-managed keys; nothing was changed' &&
		says 'fix: an account can take the key later: azkv-cmk grant'
}
run refuse_existing_account_with_microsoft_managed_keys refuse_existing_mmk_account

emu_admin create-key --vault labkv --name big --kty RSA --size 4096 >/dev/null || exit 1
emu_admin add-vault --name nopurge --location eastus --rbac >/dev/null || exit 1
emu_admin assign-role --vault nopurge --identity lab-admin --role "Key Vault Administrator" \
	>/dev/null || exit 1
emu_admin create-key --vault nopurge --name k --kty RSA --size 2048 >/dev/null || exit 1
NOPURGE="/subscriptions/$SUB/resourceGroups/rg-emulator/providers/Microsoft.KeyVault/vaults/nopurge"

refuse_rules() {
	unchanged expect 3 create-account --vault labkv --key big --location eastus \
		--account fa-big --identity uai-new &&
		says 'key.size .*4096 bits' && says 'not creating fa-big: 1 Foundry CMK rule' &&
		unchanged expect 3 create-account --vault "$NOPURGE" --key k --location eastus \
			--account fa-np --identity uai-new &&
		says 'fail  vault.purge-protection' &&
		unchanged expect 3 create-hub $NEW --location westus --hub hub-west --identity uai-new &&
		says 'fail  resource.region .*eastus but hub-west is in westus'
}
run refuse_creation_on_failed_rules refuse_rules

refuse_foreign_identity() {
	local other
	other=$(emu_admin add-tenant --name other-tenant | jq -r .tenant_id) &&
		emu_admin add-identity --name uai-foreign --managed --tenant "$other" >/dev/null &&
		arm PUT "$UAIS/uai-foreign" 2023-01-31 '{"location":"eastus"}' &&
		unchanged expect 3 create-account $NEW --account fa-foreign --identity uai-foreign &&
		says "fail  resource.tenant .*identity is in $other" &&
		arm PUT "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/fa-foreign" \
			2025-06-01 '{"location":"eastus","kind":"AIServices","identity":{"type":"UserAssigned",
			"userAssignedIdentities":{"'"$UAIS/uai-foreign"'":{}}}}' &&
		expect 1 --json check --vault labkv --key "$KEY" --account fa-foreign \
			--identity "$UAIS/uai-foreign" &&
		json '.rules[] | select(.id == "resource.tenant") | .status == "fail"'
}
run refuse_user_assigned_identity_of_another_tenant refuse_foreign_identity

# Azure's name rule for a user-assigned identity (resource-name-rules,
# Microsoft.ManagedIdentity: 3-128 letters, digits, '-' and '_', starting
# with a letter or digit) is not a vault's: an '_' in the name is valid.
underscore_identity() {
	expect 0 --json create-account $NEW --account fa-us --identity uai_hub_01 &&
		arm GET "$UAIS/uai_hub_01" 2023-01-31 &&
		expect 0 --json check --vault labkv --key "$KEY" --account fa-us &&
		json '.rules[] | select(.id == "resource.identity") | .message | test("uai_hub_01")' &&
		json '.rules[] | select(.id == "resource.tenant") | .status == "pass"'
}
run create_account_with_an_underscore_identity_name underscore_identity

# The identity's own tenant is judged by its name's rule too: one of
# another tenant named with '_' is refused before any change, and check
# reads its tenant (it used to fall back to the resource's).
underscore_foreign_identity() {
	local other
	other=$(emu_admin add-tenant --name other-tenant-2 | jq -r .tenant_id) &&
		emu_admin add-identity --name uai_foreign_01 --managed --tenant "$other" >/dev/null &&
		arm PUT "$UAIS/uai_foreign_01" 2023-01-31 '{"location":"eastus"}' &&
		unchanged expect 3 create-account $NEW --account fa-foreign-us --identity uai_foreign_01 &&
		says "fail  resource.tenant .*identity is in $other" &&
		arm PUT "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/fa-foreign-us" \
			2025-06-01 '{"location":"eastus","kind":"AIServices","identity":{"type":"UserAssigned",
			"userAssignedIdentities":{"'"$UAIS/uai_foreign_01"'":{}}}}' &&
		expect 1 --json check --vault labkv --key "$KEY" --account fa-foreign-us \
			--identity "$UAIS/uai_foreign_01" &&
		json '.rules[] | select(.id == "resource.tenant") | .status == "fail"'
}
run refuse_underscore_named_identity_of_another_tenant underscore_foreign_identity

# A new identity's tenant cannot be read before it exists: the plan says
# so, and when it will be compared; --versionless says Foundry does not
# follow new versions.
new_identity_plan() {
	unchanged expect 0 create-account $NEW --account fa-plan --identity uai-plan --versionless --dry-run &&
		says 'note: identity .*/uai-plan does not exist yet; Azure creates it in its subscription.s tenant' &&
		says 'compared with the vault.s tenant .* right after the identity is created, before the grant' &&
		says 'without a version \(Foundry keeps the version current now and does not follow new ones' &&
		! says 'following its latest version'
}
run create_account_plan_names_the_new_identity_tenant new_identity_plan

# ----------------------------------------------------------- create-hub
arm PUT "$SA/hubsa" 2023-05-01 '{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}' ||
	exit 1

create_hub() {
	unchanged expect 0 create-hub $NEW --hub hub-new --identity uai-hub --storage hubsa --dry-run &&
		says "would send: PUT .*$WS/hub-new\?api-version=2024-10-01" &&
		says '"userAssignedIdentity": ".*/userAssignedIdentities/uai-hub"' &&
		says '"enableServiceSideCMKEncryption": true' &&
		expect 0 create-hub $NEW --hub hub-new --identity uai-hub --storage hubsa &&
		says 'Created: .*hub-new uses key' &&
		arm GET "$WS/hub-new" 2024-10-01 &&
		jq -e '.kind == "Hub" and .properties.encryption.status == "Enabled" and
			(.properties.encryption.identity.userAssignedIdentity | endswith("/uai-hub")) and
			(.properties.storageAccount | endswith("/hubsa"))' "$WORK/arm.json" >/dev/null &&
		unchanged expect 0 create-hub $NEW --hub hub-new --identity uai-hub --storage hubsa &&
		says 'Nothing to do'
}
run create_hub_with_cmk_then_idempotent create_hub

# A storage account name is 3-24 lower-case letters and digits, and may
# start with a digit (resource-name-rules, Microsoft.Storage).
arm PUT "$SA/1hubsa" 2023-05-01 '{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}' ||
	exit 1
arm PUT "$WS/hub-sa1" 2024-10-01 '{"location":"eastus","kind":"Hub","properties":{"storageAccount":"'"$SA/1hubsa"'"}}' ||
	exit 1
storage_digit() {
	unchanged expect 0 create-hub $NEW --hub hub-digit --identity uai-hub --storage 1hubsa --dry-run &&
		says '"storageAccount": ".*/storageAccounts/1hubsa"' &&
		expect 1 --json check --vault labkv --key "$KEY" --hub hub-sa1 &&
		json '.rules[] | select(.id == "hub.storage-cmk") | .message | test("storage account 1hubsa uses Microsoft-managed keys")'
}
run storage_account_name_starting_with_a_digit storage_digit

arm PUT "$WS/hub-mmk" 2024-10-01 '{"location":"eastus","kind":"Hub"}' || exit 1
refuse_existing_mmk_hub() {
	unchanged expect 3 create-hub $NEW --hub hub-mmk --identity uai-hub &&
		says 'already exists with Microsoft-managed keys' &&
		says 'fix: a hub.s encryption is fixed at creation: azkv-cmk create-hub --hub NEW-NAME --vault labkv --key '"$KEY"' --identity uai-hub --location eastus, then move its projects and data' &&
		expect 1 --json check --vault labkv --key "$KEY" --workspace hub-mmk &&
		json '.rules[] | select(.id == "resource.cmk-at-creation") | .fix | test("azkv-cmk create-hub --hub NEW-NAME --vault labkv --key '"$KEY"' --identity NAME --location eastus, then move")' &&
		unchanged expect 3 bind --vault labkv --key "$KEY" --workspace hub-mmk &&
		says 'fix: a hub.s encryption is fixed at creation: azkv-cmk create-hub --hub NEW-NAME --vault labkv'
}
run refuse_existing_hub_with_microsoft_managed_keys refuse_existing_mmk_hub

# -------------------------------------------------------- check --hub
hub_check() {
	expect 1 --json check --vault labkv --key "$KEY" --hub hub-new --account fa-cmk &&
		json '.rules[] | select(.id == "hub.cmk") | .status == "pass"' &&
		json '.rules[] | select(.id == "hub.storage-cmk") | .status == "fail" and (.message | test("hubsa uses Microsoft-managed keys"))' &&
		json '.rules[] | select(.id == "hub.foundry-cmk") | .status == "pass"' &&
		json '.rules[] | select(.id == "hub.key-vault") | .status == "info"' &&
		json '.rules[] | select(.id == "hub.data-location") | .status == "pass"' &&
		json '.rules[] | select(.id == "identity.grant") | .status == "pass"' &&
		arm PATCH "$SA/hubsa" 2023-05-01 '{"identity":{"type":"UserAssigned","userAssignedIdentities":{"'"$UAIS/uai-hub"'":{}}},
			"properties":{"encryption":{"keySource":"Microsoft.Keyvault","identity":{"userAssignedIdentity":"'"$UAIS/uai-hub"'"},
			"keyvaultproperties":{"keyname":"'"$KEY"'","keyvaulturi":"https://labkv.vault.azure.net/"}}}}' &&
		expect 0 --json check --vault labkv --key "$KEY" --hub hub-new &&
		json '.rules[] | select(.id == "hub.storage-cmk") | .status == "pass"' &&
		expect 1 --json check --vault labkv --key "$KEY" --hub hub-mmk &&
		json '.rules[] | select(.id == "resource.cmk-at-creation") | .status == "fail" and (.fix | test("create-hub"))' &&
		json '[.rules[] | select(.status == "fail") | .id] | index("hub.cmk") == null' &&
		json '.rules[] | select(.id == "hub.cmk") | .status == "info"'
}
run check_hub_reports_each_top_level_resource hub_check

# --hub names the workspace: another --workspace, a --project (a Foundry
# resource's) or, outside check, an --account beside it makes no sense.
hub_combinations() {
	unchanged expect 2 check --vault labkv --key "$KEY" --hub hub-new --workspace hub-mmk &&
		says '--hub and --workspace both name the workspace' &&
		unchanged expect 2 status --vault labkv --key "$KEY" --hub hub-new --account fa-cmk &&
		says 'status --hub cannot take --account too' &&
		unchanged expect 2 check --vault labkv --key "$KEY" --hub hub-new --account fa-cmk --project p1 &&
		says '--project cannot be used with --hub' &&
		unchanged expect 2 check --vault labkv --key "$KEY" --account fa-cmk --workspace hub-new &&
		says '--account and --workspace cannot be used together'
}
run hub_option_combinations_are_usage_errors hub_combinations

# ------------------------------------------------------------ hub status
# A legacy hub, bound with no key version: its one drift is that (Foundry
# does not follow new versions; rotation.sh).
arm PUT "$WS/hub-legacy" 2024-10-01 '{"location":"eastus","kind":"Hub",
	"identity":{"type":"UserAssigned","userAssignedIdentities":{"'"$UAIS/uai-hub"'":{}}},
	"properties":{"enableServiceSideCMKEncryption":false,"encryption":{"status":"Enabled",
	"identity":{"userAssignedIdentity":"'"$UAIS/uai-hub"'"},
	"keyVaultProperties":{"keyVaultArmId":"/subscriptions/'"$SUB"'/resourceGroups/'"$RG"'/providers/Microsoft.KeyVault/vaults/labkv",
	"keyIdentifier":"https://labkv.vault.azure.net/keys/'"$KEY"'"}}}}' || exit 1

hub_status() {
	expect 0 status --hub hub-new &&
		says 'data: kept service-side' &&
		expect 1 --json status --hub hub-legacy &&
		json '.hub.dataLocation == "managed-resource-group"' &&
		json '[.drift[].id] == ["binding.versionless"]' &&
		expect 1 status --hub hub-legacy &&
		says 'data: legacy, in a Microsoft-managed resource group azureml-rg-hub-legacy_GUID' &&
		says 'warning: do not change the Cosmos DB, AI Search or Storage account .*disableLocalAuth' &&
		says 'identity: user-assigned identity .*uai-hub'
}
run hub_status_service_side_or_legacy hub_status

harness_summary
