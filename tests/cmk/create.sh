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

arm PUT "$WS/hub-mmk" 2024-10-01 '{"location":"eastus","kind":"Hub"}' || exit 1
refuse_existing_mmk_hub() {
	unchanged expect 3 create-hub $NEW --hub hub-mmk --identity uai-hub &&
		says 'already exists with Microsoft-managed keys' &&
		says 'fix: a hub.s encryption is fixed at creation: azkv-cmk create-hub --hub NEW-NAME' &&
		expect 1 --json check --vault labkv --key "$KEY" --workspace hub-mmk &&
		json '.rules[] | select(.id == "resource.cmk-at-creation") | .fix | test("azkv-cmk create-hub --hub NEW-NAME")'
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
		json '.rules[] | select(.id == "hub.cmk") | .status == "fail" and (.fix | test("create-hub"))'
}
run check_hub_reports_each_top_level_resource hub_check

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
