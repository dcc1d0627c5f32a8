#!/bin/bash
# azkv-cmk against the emulator: the Foundry CMK lab (tasks 1-5: vault,
# key with rotation policy, Foundry resource, grant, bind) as one scenario,
# then rotate, status and revoke, with the Foundry resource's own report of
# its key after each step; then every refusal, with its message and exit
# code; and --dry-run changing nothing (the emulator's state compared
# before and after). Run by `make check` (AZKV_TOP_SRCDIR,
# AZKV_TOP_BUILDDIR, AZKV_MODULE), or by hand with those set; the helpers
# and the setup are in lib.sh.
set -u

HARNESS_NAME=cmk
# shellcheck source=lib.sh
. "$AZKV_TOP_SRCDIR/tests/cmk/lib.sh"

# --------------------------------------------------------- the lab, tasks 1-5
task1_vault() {
	unchanged expect 0 create-vault --vault labkv --location eastus --dry-run &&
		says 'would send: PUT https://management.azure.com/subscriptions/.*/vaults/labkv\?api-version=' &&
		says '"enablePurgeProtection": true' &&
		expect 0 create-vault --vault labkv --location eastus &&
		emu_admin show-vault --vault labkv >"$WORK/vault.json" &&
		jq -e '.purge_protection == true and .soft_delete == true and
			.enable_rbac_authorization == true' "$WORK/vault.json" >/dev/null &&
		unchanged expect 0 create-vault --vault labkv --location eastus &&
		says 'already exists; not changing it'
}
run lab_task1_create_vault task1_vault
# The lab's portal step: the admin gives itself Key Vault Administrator.
emu_admin assign-role --vault labkv --identity lab-admin --role "Key Vault Administrator" \
	>/dev/null || exit 1

task2_key() {
	expect 0 create-key --vault labkv --key "$KEY" --rotate-after P6M --expire-after P210D &&
		expect 0 --json rotation-policy show --vault labkv --key "$KEY" &&
		json '.rotationPolicy.attributes.expiryTime == "P210D"' &&
		json '[.rotationPolicy.lifetimeActions[] | select(.action.type == "Rotate")][0].trigger.timeAfterCreate == "P6M"' &&
		unchanged expect 0 create-key --vault labkv --key "$KEY" --rotate-after P6M \
			--expire-after P210D &&
		says 'already exists'
}
run lab_task2_key_with_rotation_policy task2_key

# A create whose connection is lost once it was sent is not sent again,
# by the module or by libcurl (the vault may have made the key): one
# create, with its token, reached the emulator, and the command failed.
dropped_create_is_not_repeated() {
	local before n rc
	emu_admin fault --add '{"service": "keyvault", "method": "POST",
		"path_regex": "/keys/dropped/create$", "drop": true, "count": 1}' >/dev/null || return 1
	before=$(wc -l <"$EMU_STATE/emulator.log")
	cmk create-key --vault labkv --key dropped
	rc=$?
	emu_admin fault --clear >/dev/null
	[ "$rc" != 0 ] || {
		echo "create-key succeeded after its connection was dropped"
		return 1
	}
	n=$(tail -n +"$((before + 1))" "$EMU_STATE/emulator.log" |
		grep -c "POST labkv.vault.azure.net/keys/dropped/create .*+auth")
	[ "$n" = 1 ] || {
		echo "want 1 create sent with a token, got $n:"
		tail -n +"$((before + 1))" "$EMU_STATE/emulator.log"
		return 1
	}
}
run dropped_create_is_not_repeated dropped_create_is_not_repeated

# Task 3 is the portal's: a Foundry resource with a system-assigned identity
# and Microsoft-managed keys.
emu_admin add-account --name "$ACCOUNT" --location eastus --identity system \
	--resource-group "$RG" >/dev/null || exit 1
MI=$(emu_admin list-accounts | jq -r --arg n "$ACCOUNT" '.value[] | select(.name == $n) | .identity.principalId')

check_before_grant() {
	expect 1 --json check $LAB &&
		json '.rules[] | select(.id == "identity.grant") | .status == "fail"' &&
		json '.rules[] | select(.id == "vault.purge-protection") | .status == "pass"' &&
		json '.rules[] | select(.id == "key.size") | .status == "pass"' &&
		json '.rules[] | select(.id == "resource.region") | .status == "pass"' &&
		json '.result == "fail"'
}
run check_fails_before_the_grant check_before_grant

bind_before_grant_refused() {
	unchanged expect 3 bind $LAB &&
		says 'not binding: 1 Foundry CMK rule\(s\) fail' &&
		says 'identity.grant' &&
		foundry "$ACCOUNT" '.keySource == "Microsoft.CognitiveServices"'
}
run bind_before_the_grant_is_refused bind_before_grant_refused

task4_grant() {
	unchanged expect 0 grant $LAB --dry-run &&
		says "would send: PUT https://management.azure.com/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults/labkv/keys/$KEY/providers/Microsoft.Authorization/roleAssignments/" &&
		says 'e147488a-f6f5-4113-8e2d-b22465e65bf6' &&
		expect 0 --json grant $LAB &&
		json '.changed == true' &&
		emu_admin show-vault --vault labkv >"$WORK/vault.json" &&
		jq -e --arg mi "$MI" '[.role_assignments[] | select(.principal_id == $mi and
			.role_definition_id == "e147488a-f6f5-4113-8e2d-b22465e65bf6" and
			(.scope | endswith("/keys/'"$KEY"'")))] | length == 1' "$WORK/vault.json" >/dev/null
}
run lab_task4_grant_least_privilege task4_grant

grant_idempotent() {
	unchanged expect 0 --json grant $LAB &&
		json '.changed == false and (.requests // [] | length == 0)' &&
		says 'Nothing to do'
}
run grant_twice_changes_nothing grant_idempotent

check_after_grant() {
	expect 0 --json check $LAB &&
		json '.result != "fail"' &&
		json '.rules[] | select(.id == "identity.current-grant") |
			.message | test("^rbac Key Vault Crypto Service Encryption User at .*/keys/'"$KEY"'$")'
}
run check_passes_after_the_grant_and_shows_it check_after_grant

task5_bind() {
	unchanged expect 0 bind $LAB --dry-run &&
		says "would send: PATCH https://management.azure.com/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/$ACCOUNT\?api-version=" &&
		says '"keySource": "Microsoft.KeyVault"' &&
		expect 0 bind $LAB &&
		says 'operation Succeeded' &&
		says 'Verified: .* now reports key' &&
		foundry "$ACCOUNT" '.keySource == "Microsoft.KeyVault" and .keyAccessible == true'
}
run lab_task5_bind task5_bind
V1=$(jq -r .keyVersionInUse "$WORK/foundry.json")

# The lab's auditability ("auditability through Key Vault logging"): the
# vault's audit events sent to a Log Analytics workspace (audit.sh has the
# rest of it).
LAW="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.OperationalInsights/workspaces/lab-law"
lab_audit() {
	expect 0 --json check $LAB &&
		json '.rules[] | select(.id == "vault.audit-logs") | .status == "warn"' &&
		expect 0 audit enable --vault labkv --workspace "$LAW" &&
		expect 0 --json audit status --vault labkv &&
		json "[.auditEvents[].destination] == [\"$LAW\"]" &&
		expect 0 --json check $LAB &&
		json '.rules[] | select(.id == "vault.audit-logs") | .status == "pass"'
}
run lab_audit_enabled lab_audit

# A Foundry project of the resource, whose own identity the reference says
# to grant (projects.sh has the rest).
ACCOUNT_ID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/$ACCOUNT"
arm PATCH "$ACCOUNT_ID" 2025-06-01 '{"properties": {"allowProjectManagement": true}}' || exit 1
emu_admin add-project --account "$ACCOUNT" --name lab-project >/dev/null || exit 1
lab_project() {
	expect 1 --json check $LAB --project lab-project &&
		json '.rules[] | select(.id == "identity.grant") | .status == "fail"' &&
		expect 0 grant $LAB --project lab-project &&
		expect 0 --json check $LAB --project lab-project &&
		json '.rules[] | select(.id == "identity.grant") | .status == "pass"' &&
		expect 0 --json status --account "$ACCOUNT" &&
		json '[.projects[] | select(.name == "lab-project")] | length == 1'
}
run lab_project_granted lab_project

refuse_way_back() {
	unchanged expect 3 bind --microsoft-managed --account "$ACCOUNT" &&
		says 'Azure does not allow going back to Microsoft-managed keys' &&
		foundry "$ACCOUNT" '.keySource == "Microsoft.KeyVault"'
}
run refuse_going_back_to_microsoft_managed_keys refuse_way_back

status_clean() {
	expect 0 --json status --account "$ACCOUNT" &&
		json ".binding.keyVersion == \"$V1\"" &&
		json '.drift | length == 0' &&
		json '.versions | length == 1'
}
run status_after_bind_has_no_drift status_clean

# The rotation policy makes a new version; Foundry keeps the bound one until
# follow rebinds it (rotation.sh has the rest).
lab_follow() {
	local v
	v=$(policy_rotates) && [ -n "$v" ] && [ "$v" != "$V1" ] &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V1\"" &&
		expect 1 --json status --account "$ACCOUNT" &&
		json '.drift[] | select(.id == "binding.not-current")' &&
		expect 0 follow --account "$ACCOUNT" &&
		foundry "$ACCOUNT" ".keyAccessible == true and .keyVersionInUse == \"$v\"" &&
		expect 0 follow --account "$ACCOUNT" &&
		says 'Nothing to follow' &&
		expect 0 --json status --account "$ACCOUNT" &&
		json '.drift | length == 0'
}
run lab_follow_after_a_policy_rotation lab_follow

# ------------------------------------------------------------ rotate
rotate_dry() {
	unchanged expect 0 rotate --account "$ACCOUNT" --dry-run &&
		says "would send: POST https://labkv.vault.azure.net/keys/$KEY/rotate\?api-version=" &&
		says '"keyVersion": "\{new-version\}"'
}
run rotate_dry_run_changes_nothing rotate_dry

# The dry run's result names the version to come as the rebind it shows
# does (it said "(new)" beside a rebind to "{new-version}").
rotate_dry_json() {
	unchanged expect 0 --json rotate --account "$ACCOUNT" --dry-run &&
		json '.keyVersion as $v | [.requests[] | select(.method == "PATCH") |
			.body.properties.encryption.keyVaultProperties.keyVersion] == [$v]'
}
run rotate_dry_run_result_names_the_version_of_its_rebind rotate_dry_json

rotate_real() {
	expect 0 --json rotate --account "$ACCOUNT" &&
		json '.rebound == true and .proof.wrapUnwrap == true' &&
		V2=$(jq -r .keyVersion "$WORK/last.json") &&
		[ "$V2" != "$V1" ] &&
		foundry "$ACCOUNT" ".keyAccessible == true and .keyVersionInUse == \"$V2\""
}
run rotate_rebinds_and_proves rotate_real

status_after_rotate() {
	expect 0 --json status --account "$ACCOUNT" &&
		json '.versions | length == 3' &&
		json '.versions[0].bound == true and .versions[0].current == true' &&
		json '.drift | length == 0'
}
run status_after_rotate status_after_rotate

drift_not_current() {
	emu_admin create-key --vault labkv --name "$KEY" --kty RSA --size 2048 >/dev/null &&
		expect 1 --json status --account "$ACCOUNT" &&
		json '.drift[] | select(.id == "binding.not-current")' &&
		V_NEW=$(jq -r '.versions[0].version' "$WORK/last.json") &&
		expect 1 status --account "$ACCOUNT" &&
		says "the current version is $V_NEW" &&
		expect 0 --json rotate --account "$ACCOUNT" --to-version "$V_NEW" &&
		json ".keyVersion == \"$V_NEW\" and .proof.wrapUnwrap == true" &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V_NEW\"" &&
		expect 0 status --account "$ACCOUNT"
}
run status_reports_a_version_made_outside_and_rotate_to_version_fixes_it drift_not_current

drift_expiring() {
	emu_admin create-key --vault labkv --name soon --kty RSA --size 2048 \
		--exp "$(($(date +%s) + 10 * 86400))" >/dev/null &&
		expect 0 grant --vault labkv --key soon --principal "$MI" &&
		expect 1 --json status --vault labkv --key soon --principal "$MI" &&
		json '.drift[] | select(.id == "key.expiring")' &&
		expect 0 --json status --vault labkv --key soon --principal "$MI" --expiring-days 5 &&
		expect 0 --json check --vault labkv --key soon --expiring-days 30 &&
		json '.rules[] | select(.id == "key.expiry") | .status == "warn"'
}
run status_and_check_warn_of_a_key_expiring_soon drift_expiring

policy_dry() {
	unchanged expect 0 rotation-policy set --vault labkv --key "$KEY" --rotate-after P90D \
		--dry-run &&
		says "would send: PUT https://labkv.vault.azure.net/keys/$KEY/rotationpolicy\?api-version=" &&
		says '"timeAfterCreate": "P90D"' &&
		unchanged expect 0 create-key --vault labkv --key dry --dry-run &&
		says "would send: POST https://labkv.vault.azure.net/keys/dry/create\?api-version="
}
run policy_and_key_dry_runs_change_nothing policy_dry

# ------------------------------------------------------------ revoke
revoke_unconfirmed() {
	unchanged expect 7 revoke $LAB &&
		says 'downloading training data and results files' &&
		says 'fine-tuning new models' &&
		says 'not confirmed'
}
run revoke_without_yes_is_not_confirmed revoke_unconfirmed

run revoke_dry_run_changes_nothing unchanged expect 0 revoke $LAB --dry-run

revoke_grant() {
	expect 0 revoke $LAB --yes &&
		says 'Removing role assignment' &&
		says 'Verified: .* can no longer get, wrapKey or unwrapKey' &&
		foundry "$ACCOUNT" '.keyAccessible == false' &&
		expect 1 --json status --account "$ACCOUNT" &&
		json '.drift[] | select(.id == "grant.missing")'
}
run revoke_removes_the_grant revoke_grant

regrant() {
	expect 0 grant $LAB &&
		foundry "$ACCOUNT" '.keyAccessible == true'
}
run grant_restores_access regrant

revoke_disable() {
	expect 0 --json revoke $LAB --disable-key --yes &&
		json '.disabledVersion' &&
		foundry "$ACCOUNT" '.keyAccessible == false' &&
		expect 1 --json status --account "$ACCOUNT" &&
		json '.drift[] | select(.id == "binding.version-disabled")'
}
run revoke_by_disabling_the_key revoke_disable

# ------------------------------------------------------------ refusals
# Vaults made by the emulator's admin API are in its resource group.
vid() {
	echo "/subscriptions/$SUB/resourceGroups/rg-emulator/providers/Microsoft.KeyVault/vaults/$1"
}
emu_admin add-vault --name nopurge --location eastus --rbac >/dev/null || exit 1
emu_admin add-vault --name westkv --location westeurope --purge-protection --rbac >/dev/null || exit 1
emu_admin add-vault --name closedkv --location eastus --purge-protection --rbac >/dev/null || exit 1
for v in nopurge westkv closedkv; do
	emu_admin assign-role --vault $v --identity lab-admin --role "Key Vault Administrator" \
		>/dev/null || exit 1
done
emu_admin create-key --vault labkv --name big --kty RSA --size 4096 >/dev/null || exit 1
emu_admin create-key --vault labkv --name eckey --kty EC --crv P-256 >/dev/null || exit 1
emu_admin create-key --vault nopurge --name k --kty RSA --size 2048 >/dev/null || exit 1
emu_admin create-key --vault westkv --name k --kty RSA --size 2048 >/dev/null || exit 1
emu_admin create-key --vault closedkv --name k --kty RSA --size 2048 >/dev/null || exit 1

refuse_purge() {
	expect 1 --json check --vault "$(vid nopurge)" --key k &&
		json '.rules[] | select(.id == "vault.purge-protection") | .status == "fail"' &&
		expect 1 check --vault "$(vid nopurge)" --key k &&
		says 'fix: az keyvault update --name nopurge --enable-purge-protection true'
}
run refuse_vault_without_purge_protection refuse_purge

refuse_size() {
	expect 1 --json check --vault labkv --key big &&
		json '.rules[] | select(.id == "key.size") | .status == "fail" and (.message | test("4096 bits: Foundry accepts only 2048-bit keys"))' &&
		expect 3 create-key --vault labkv --key another --size 3072 &&
		says 'only 2048-bit RSA keys are supported'
}
run refuse_rsa_4096_and_3072 refuse_size

refuse_ec() {
	expect 1 --json check --vault labkv --key eckey &&
		json '.rules[] | select(.id == "key.type") | .status == "fail"'
}
run refuse_ec_key refuse_ec

emu_admin add-account --name west-foundry --location westeurope --identity system \
	--resource-group "$RG" >/dev/null || exit 1
emu_admin add-account --name noident --location eastus --resource-group "$RG" >/dev/null || exit 1

refuse_region() {
	unchanged expect 3 bind --vault labkv --key "$KEY" --account west-foundry &&
		says 'resource.region' &&
		says 'must be in the same region'
}
run refuse_bind_across_regions refuse_region

already_mmk() {
	unchanged expect 0 bind --microsoft-managed --account noident &&
		says 'already uses Microsoft-managed keys'
}
run microsoft_managed_stays_microsoft_managed already_mmk

refuse_no_identity() {
	unchanged expect 3 grant --vault labkv --key "$KEY" --account noident &&
		says 'has no managed identity' &&
		unchanged expect 3 bind --vault labkv --key "$KEY" --account noident &&
		says 'resource.identity'
}
run refuse_missing_managed_identity refuse_no_identity

refuse_other_vault() {
	expect 0 grant --vault "$(vid westkv)" --key k --account "$ACCOUNT" &&
		unchanged expect 3 bind --vault "$(vid westkv)" --key k --account "$ACCOUNT" &&
		says 'Foundry refuses a key in another vault'
}
run refuse_key_in_another_vault refuse_other_vault

refuse_policy() {
	unchanged expect 3 rotation-policy set --vault labkv --key "$KEY" --rotate-after P1Y \
		--expire-after P90D &&
		says 'would expire \(P90D\) before the next one is made \(P1Y\)' &&
		expect 2 rotation-policy set --vault labkv --key "$KEY" --rotate-after six-months &&
		says 'is not a duration'
}
run refuse_expiry_before_rotation refuse_policy

refuse_firewall() {
	arm PATCH "$(vid closedkv)" 2023-07-01 \
		'{"properties":{"networkAcls":{"defaultAction":"Deny","bypass":"None"}}}' &&
		expect 1 --json check --vault "$(vid closedkv)" --key k &&
		json '.rules[] | select(.id == "vault.network") | .status == "fail"'
}
run refuse_firewall_without_trusted_services refuse_firewall

refuse_usage() {
	expect 2 frobnicate && says 'unknown command "frobnicate"' &&
		expect 2 grant --vault labkv --key "$KEY" --to-version x &&
		says 'grant does not take --to-version' &&
		expect 2 check --vault labkv &&
		says 'check needs the key' &&
		expect 2 grant --vault labkv --key "$KEY" &&
		says 'needs to know whose access to change'
}
run usage_errors_exit_2 refuse_usage

# A number option's value is checked before any request: one that is not
# a whole number, or out of range, is a usage error naming the option and
# the value (--size x became 2048 and created the key, --retention-days 7x
# made a vault).
number_options_checked() {
	unchanged expect 2 create-key --vault labkv --key another --size x &&
		says '--size "x" is not a whole number from 1 to 65536' &&
		says 'see: azkv-cmk create-key --help' &&
		unchanged expect 2 create-key --vault labkv --key another --size 2048bits &&
		expect 2 check --vault labkv --key "$KEY" --expiring-days 30d &&
		says '--expiring-days "30d" is not a whole number from 0 to 36500' &&
		expect 2 status --vault labkv --key "$KEY" --principal "$MI" --expiring-days ' 5' &&
		expect 2 status --vault labkv --key "$KEY" --principal "$MI" --expiring-days -1 &&
		unchanged expect 2 create-vault --vault numkv --location eastus --retention-days 7x &&
		says '--retention-days "7x" is not a whole number from 7 to 90' &&
		unchanged expect 2 create-vault --vault numkv --location eastus --retention-days 91 &&
		unchanged expect 2 create-vault --vault numkv --location eastus \
			--retention-days 99999999999999999999 &&
		says 'is not a whole number from 7 to 90'
}
run number_options_are_checked number_options_checked

# Names, ids and the principal go into URLs and an OData $filter: each
# hostile one is refused with exit 2 before any request is sent (the
# emulator logs every request: its log does not grow).
refuse_hostile_names() {
	local vaults="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults"
	local before after args
	local -a cases=(
		"--vault|labkv?api-version=2019-09-01&x=|not a valid key vault name"
		"--vault|labkv#x|not a valid key vault name"
		"--vault|../../providers/Microsoft.Authorization/roleAssignments/x|not a valid key vault name"
		"--vault|$vaults/labkv/../../../../otherrg|not a valid key vault name or ARM id"
		"--vault|$vaults/labkv/keys/k?x=1|not a valid key vault name or ARM id"
		"--vault|$vaults/lab%2Fkv|not a valid key vault name or ARM id"
		"--vault|/subscriptions/$SUB/resourceGroups/../providers/Microsoft.KeyVault/vaults/labkv|or ARM id"
		"--vault|/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Storage/storageAccounts/labkv|or ARM id"
		"--vault|/subscriptions/$SUB#/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults/labkv|or ARM id"
		"--key|$KEY?x=1|not a valid key name"
		"--key|..|not a valid key name"
		"--key|a%2F..|not a valid key name"
		"-g|$RG/../other|not a valid resource group name"
		"-g|$RG?|not a valid resource group name"
		"-s|$SUB/resourceGroups/x|is not a GUID"
		"--account|$ACCOUNT#x|not a valid Foundry resource"
		"--account|$ACCOUNT/../x|not a valid Foundry resource"
		"--workspace|ws?x|not a valid workspace name"
		"--principal|x' or principalId ne 'y|is not a GUID"
		"--principal|00000000-0000-0000-0000-00000000000%|is not a GUID"
	)
	local c opt value why
	before=$(wc -l <"$EMU_STATE/emulator.log")
	for c in "${cases[@]}"; do
		opt=${c%%|*}
		value=${c#*|}
		value=${value%|*}
		why=${c##*|}
		args=(--vault labkv --key "$KEY")
		case $opt in
		--vault | --key) args=(grant --principal "$MI" "${args[@]}" "$opt" "$value") ;;
		--principal) args=(grant "${args[@]}" --principal "$value") ;;
		*) args=(check "${args[@]}" "$opt" "$value") ;;
		esac
		expect 2 "${args[@]}" && says "$(sed 's/[][\.*^$?+(){}|]/\\&/g' <<<"$why")" &&
			says 'fix: ' || {
			echo "case: $opt $value"
			return 1
		}
	done
	after=$(wc -l <"$EMU_STATE/emulator.log")
	[ "$before" = "$after" ] || {
		echo "requests were sent:"
		tail -n +"$((before + 1))" "$EMU_STATE/emulator.log"
		return 1
	}
}
run hostile_names_refused_before_any_request refuse_hostile_names

# Text from Azure (here an error message) is shown escaped: no forged
# line, no terminal escape sequence, in the text and the --json output.
server_text_escaped() {
	local msg='Denied.\n[fake] azkv-cmk: all good\u001b[2J\u009b31m'
	emu_admin fault --add '{"service": "arm", "method": "GET", "path_regex": "/vaults/labkv([?]|$)", "status": 403, "code": "Forbidden", "message": "'"$msg"'"}' >/dev/null || return 1
	expect 4 check --vault labkv --key "$KEY" &&
		says 'Denied\.\\n\[fake\] azkv-cmk: all good\\x1b\[2J\\u009b31m' &&
		! grep -q '^\[fake\]' "$WORK/last.out" &&
		! grep -q $'\x1b' "$WORK/last.out" &&
		! grep -q $'\xc2\x9b' "$WORK/last.out" &&
		expect 4 --json check --vault labkv --key "$KEY" &&
		json '.error.message | contains("Denied.\n[fake] azkv-cmk: all good\u001b[2J\u009b31m")' &&
		! grep -q $'\xc2\x9b' "$WORK/last.json" &&
		grep -q '\\u009b' "$WORK/last.json" || {
		emu_admin fault --clear >/dev/null
		return 1
	}
	emu_admin fault --clear >/dev/null
}
run server_text_escaped_in_output server_text_escaped

refuse_not_found() {
	expect 5 check --vault nosuchvault --key k && says 'was not found' &&
		expect 5 grant --vault labkv --key "$KEY" --account nosuchaccount &&
		says 'was not found'
}
run not_found_exits_5 refuse_not_found

refuse_auth() {
	local weak conf="$WORK/weak.json"
	weak=$(emu_admin add-identity --name weak) &&
		emu_write_config "$conf.tmp" "$weak" "https://labkv.vault.azure.net" &&
		jq --arg sub "$SUB" '. + {arm: {subscription_id: $sub}}' "$conf.tmp" >"$conf" &&
		chmod 600 "$conf" &&
		CONF="$conf" expect 4 check --vault labkv --key "$KEY" &&
		says 'Forbidden'
}
run no_permission_exits_4 refuse_auth

refuse_config() {
	CONF="$WORK/missing.json" expect 8 status --vault labkv --key "$KEY" &&
		says 'configuration'
}
run missing_configuration_exits_8 refuse_config

# ------------------------------------------------- hubs and projects
WS="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.MachineLearningServices/workspaces"
KV_LAB="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults/labkv"
arm PUT "$WS/hub-mmk" 2024-10-01 \
	'{"location":"eastus","kind":"Hub","identity":{"type":"SystemAssigned"},"properties":{}}' ||
	exit 1
arm PUT "$WS/hub-cmk" 2024-10-01 '{"location":"eastus","kind":"Hub",
	"identity":{"type":"SystemAssigned"},"properties":{"encryption":{"status":"Enabled",
	"keyVaultProperties":{"keyVaultArmId":"'"$KV_LAB"'",
	"keyIdentifier":"https://labkv.vault.azure.net/keys/'"$KEY/$V1"'"}}}}' || exit 1
arm PUT "$WS/project1" 2024-10-01 '{"location":"eastus","kind":"Project",
	"identity":{"type":"SystemAssigned"},"properties":{"hubResourceId":"'"$WS/hub-cmk"'"}}' ||
	exit 1

refuse_hub_mmk() {
	unchanged expect 3 bind --vault labkv --key "$KEY" --workspace hub-mmk &&
		says 'fixed at creation'
}
run refuse_changing_a_hub_after_creation refuse_hub_mmk

refuse_project() {
	unchanged expect 3 bind --vault labkv --key "$KEY" --workspace project1 &&
		says 'is a project: its encryption comes from its hub'
}
run refuse_binding_a_project refuse_project

rotate_hub() {
	expect 0 grant --vault labkv --key "$KEY" --workspace hub-cmk &&
		expect 0 --json rotate --workspace hub-cmk --no-prove &&
		V3=$(jq -r .keyVersion "$WORK/last.json") &&
		arm GET "$WS/hub-cmk" 2024-10-01 &&
		jq -e --arg v "$V3" '.properties.encryption.keyVaultProperties.keyIdentifier |
			endswith("/keys/'"$KEY"'/" + $v)' "$WORK/arm.json" >/dev/null &&
		arm GET "$WS/project1" 2024-10-01 &&
		jq -e --arg v "$V3" '.properties.encryption.keyVaultProperties.keyIdentifier |
			endswith($v)' "$WORK/arm.json" >/dev/null
}
run rotate_a_hub_and_its_project_follows rotate_hub

# ------------------------------------------- access policies, over-broad grants
emu_admin add-vault --name apkv --location eastus --purge-protection >/dev/null || exit 1
emu_admin set-policy --vault apkv --identity "$(jq -r .client_id <<<"$ADMIN")" \
	--keys get,list,create,update,rotate,getrotationpolicy,setrotationpolicy,wrapKey,unwrapKey \
	>/dev/null || exit 1
emu_admin create-key --vault apkv --name k --kty RSA --size 2048 >/dev/null || exit 1
emu_admin add-account --name ap-foundry --location eastus --identity system \
	--resource-group "$RG" >/dev/null || exit 1
AP_MI=$(emu_admin list-accounts | jq -r '.value[] | select(.name == "ap-foundry") | .identity.principalId')

policy_grant() {
	expect 0 --json grant --vault "$(vid apkv)" --key k --account ap-foundry &&
		json '.model == "access-policy" and .changed == true' &&
		emu_admin show-vault --vault apkv >"$WORK/vault.json" &&
		jq -e --arg mi "$AP_MI" '.access_policies[$mi].keys | sort == ["get","unwrapKey","wrapKey"]' \
			"$WORK/vault.json" >/dev/null &&
		unchanged expect 0 grant --vault "$(vid apkv)" --key k --account ap-foundry &&
		says 'Nothing to do' &&
		expect 0 bind --vault "$(vid apkv)" --key k --account ap-foundry &&
		foundry ap-foundry '.keyAccessible == true'
}
run grant_and_bind_with_access_policies policy_grant

policy_broad() {
	emu_admin set-policy --vault apkv --identity "$AP_MI" \
		--keys get,wrapKey,unwrapKey,decrypt,sign >/dev/null &&
		unchanged expect 0 --json grant --vault "$(vid apkv)" --key k --account ap-foundry &&
		json '.overBroadGrants | length == 1' &&
		expect 0 grant --vault "$(vid apkv)" --key k --account ap-foundry &&
		says 'over-broad grant: access-policy' &&
		expect 0 grant --vault "$(vid apkv)" --key k --account ap-foundry --exact &&
		emu_admin show-vault --vault apkv >"$WORK/vault.json" &&
		jq -e --arg mi "$AP_MI" '.access_policies[$mi].keys | sort == ["get","unwrapKey","wrapKey"]' \
			"$WORK/vault.json" >/dev/null
}
run over_broad_access_policy_reported_and_exact_fixes_it policy_broad

rbac_broad() {
	emu_admin assign-role --vault labkv --identity "$MI" --role "Key Vault Crypto User" \
		>/dev/null &&
		expect 0 --json check $LAB &&
		json '.rules[] | select(.id == "identity.least-privilege") | .status == "warn"' &&
		expect 0 --json grant $LAB &&
		json '.overBroadGrants | length == 1'
}
run over_broad_role_reported rbac_broad

revoke_inherited() {
	arm PUT "/subscriptions/$SUB/resourceGroups/rg-emulator/providers/Microsoft.Authorization/roleAssignments/6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b" \
		2022-04-01 '{"properties":{"roleDefinitionId":"/subscriptions/'"$SUB"'/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6","principalId":"'"$MI"'","principalType":"ServicePrincipal"}}' &&
		unchanged expect 3 revoke --vault "$(vid westkv)" --key k --account "$ACCOUNT" --yes &&
		says 'keeps access through Key Vault Crypto Service Encryption User at .*/resourceGroups/rg-emulator, above the vault'
}
run refuse_revoke_that_a_resource_group_grant_would_defeat revoke_inherited

# ------------------------------------------------- user-assigned identity
UAI="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/foundry-uai"
arm PUT "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/ua-foundry" \
	2025-06-01 '{"location":"eastus","kind":"AIServices","sku":{"name":"S0"},
	"identity":{"type":"UserAssigned","userAssignedIdentities":{"'"$UAI"'":{}}},"properties":{}}' ||
	exit 1

user_assigned() {
	expect 0 create-key --vault labkv --key uakey &&
		expect 3 bind --vault labkv --key uakey --account ua-foundry &&
		says 'resource.identity' &&
		expect 0 grant --vault labkv --key uakey --account ua-foundry --identity "$UAI" &&
		expect 0 bind --vault labkv --key uakey --account ua-foundry --identity "$UAI" &&
		arm GET "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/ua-foundry" 2025-06-01 &&
		jq -e '.properties.encryption.keyVaultProperties.identityClientId ==
			(.identity.userAssignedIdentities[] | .clientId)' "$WORK/arm.json" >/dev/null &&
		foundry ua-foundry '.keyAccessible == true' &&
		expect 0 status --account ua-foundry &&
		says 'user-assigned identity'
}
run user_assigned_identity user_assigned

verbose_no_secrets() {
	local secret
	secret=$(jq -r .credential.client_secret "$CONF")
	# Its exit code is the drift's; what matters here is the log.
	cmk -v status --account "$ACCOUNT" --vault labkv --key "$KEY"
	has "$WORK/last.stderr" 'info: http: GET management.azure.com/subscriptions/' &&
		has "$WORK/last.stderr" 'info: http: GET labkv.vault.azure.net/keys/' || return 1
	if grep -q -e "$secret" -e 'eyJ' "$WORK/last.out"; then
		echo "a secret or a token is in the output"
		return 1
	fi
}
run verbose_logs_each_request_and_no_secret verbose_no_secrets

# ------------------------------------------------- control-plane RBAC
# With the emulator enforcing Resource Manager RBAC: a Reader may check but
# not grant; the lab's admin, Owner of the subscription, may.
arm_rbac() {
	local ops conf="$WORK/ops.json"
	ops=$(emu_admin add-identity --name ops) &&
		emu_admin assign-role --scope "/subscriptions/$SUB" --identity lab-admin --role Owner \
			>/dev/null &&
		emu_admin assign-role --scope "/subscriptions/$SUB/resourceGroups/$RG" --identity ops \
			--role Reader >/dev/null &&
		emu_admin assign-role --vault labkv --identity ops --role "Key Vault Crypto Officer" \
			>/dev/null &&
		emu_write_config "$conf.tmp" "$ops" "https://labkv.vault.azure.net" &&
		jq --arg sub "$SUB" '. + {arm: {subscription_id: $sub}}' "$conf.tmp" >"$conf" &&
		chmod 600 "$conf" &&
		emu_admin arm-rbac on >/dev/null || return 1
	CONF="$conf" expect 0 check --vault labkv --key uakey --account ua-foundry --identity "$UAI" &&
		CONF="$conf" unchanged expect 4 grant --vault labkv --key "$KEY" --principal "$AP_MI" &&
		says 'AuthorizationFailed' &&
		says "Microsoft.Authorization/roleAssignments/write" &&
		says 'Owner or User Access Administrator' &&
		expect 0 grant --vault labkv --key "$KEY" --principal "$AP_MI"
	local rc=$?
	emu_admin arm-rbac off >/dev/null
	return $rc
}
run arm_rbac_reader_may_check_not_grant arm_rbac

# ------------------------------------------------- throttling and outages
throttled_bind() {
	emu_admin create-key --vault apkv --name k --kty RSA --size 2048 >/dev/null &&
		emu_admin fault --add '{"service": "arm", "method": "PATCH",
			"path_regex": "accounts/ap-foundry$", "status": 429, "retry_after": 1,
			"count": 1}' >/dev/null &&
		expect 0 bind --vault "$(vid apkv)" --key k --account ap-foundry &&
		says 'Verified' &&
		grep -q 'PATCH management.azure.com/.*/accounts/ap-foundry 429' "$EMU_STATE/emulator.log"
}
run a_throttled_bind_is_retried throttled_bind

service_down() {
	emu_admin fault --add '{"service": "arm", "method": "GET", "path_regex": "vaults/labkv$",
		"status": 503}' >/dev/null &&
		expect 6 check --vault labkv --key "$KEY" &&
		says 'ServiceUnavailable' &&
		says 'fix: try again'
	local rc=$?
	emu_admin fault --clear >/dev/null
	return $rc
}
run an_outage_exits_6_and_says_so service_down

# ------------------------------------------------- an admin with `az login`, no file
# as_az_user COMMAND...: COMMAND run as an administrator who ran `az login`
# as lab-admin and has no configuration file: azkv-cmk finds the Azure
# CLI's login through the default credential and the subscription through
# `az account show`. Only the emulator's address and CA come from the
# environment (AZKV_PKCS11_CONNECT_TO, AZKV_PKCS11_CA_FILE).
as_az_user() {
	(
		unset AZKV_PKCS11_CONFIG
		CONF=
		export PATH="$AZKV_TOP_SRCDIR/tests/fakes:$PATH" FAKE_AZ_STATE="$EMU_STATE" \
			FAKE_AZ_IDENTITY="$(jq -r .client_id <<<"$ADMIN")" FAKE_AZ_SUBSCRIPTION="$SUB" \
			FAKE_AZ_LOG="$WORK/az.log" AZKV_PKCS11_CA_FILE="$EMU_CA" \
			AZKV_PKCS11_CONNECT_TO="127.0.0.1:$EMU_PORT"
		"$@"
	)
}
emu_admin add-account --name cli-foundry --location eastus --identity system \
	--resource-group "$RG" >/dev/null || exit 1

check_and_grant_with_az_login() {
	as_az_user expect 1 --json check --vault labkv --key "$KEY" --account cli-foundry &&
		json '.rules[] | select(.id == "identity.grant") | .status == "fail"' &&
		grep -q "^account show --output json$" "$WORK/az.log" &&
		grep -q "^account get-access-token --output json --resource https://management.azure.com$" \
			"$WORK/az.log" &&
		# The vault's token is asked for the tenant its challenge names, as
		# the SDKs' AzureCliCredential is.
		grep -q -E "^account get-access-token --output json --resource https://vault.azure.net --tenant [0-9a-f-]+$" \
			"$WORK/az.log" &&
		as_az_user unchanged expect 0 grant --vault labkv --key "$KEY" --account cli-foundry \
			--dry-run &&
		says "would send: PUT https://management.azure.com/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults/labkv/keys/$KEY/providers/Microsoft.Authorization/roleAssignments/" &&
		as_az_user expect 0 --json grant --vault labkv --key "$KEY" --account cli-foundry &&
		json '.changed == true' &&
		as_az_user expect 0 --json check --vault labkv --key "$KEY" --account cli-foundry &&
		json '.result != "fail"'
}
run check_and_grant_with_az_login_and_no_configuration check_and_grant_with_az_login

no_login_no_file() {
	# az is not logged in: the subscription cannot be found; the fix says how.
	FAKE_AZ_MODE=not-logged-in as_az_user expect 2 check --vault labkv --key "$KEY" &&
		says "no subscription" && says "az login" &&
		# Given the subscription, no credential of the chain answers: exit 4.
		FAKE_AZ_MODE=not-logged-in as_az_user expect 4 -s "$SUB" check --vault labkv \
			--key "$KEY" &&
		says "no credential is available here" && says "run 'az login'"
}
run no_az_login_and_no_file_says_what_to_do no_login_no_file


# The cloud of `az cloud set`: Azure US Government's Resource Manager,
# vault host names and token audiences, all from the cloud table.
clouds() {
	emu_admin add-account --name usgov-foundry --location eastus --identity system \
		--resource-group "$RG" >/dev/null &&
		as_az_user unchanged expect 0 --cloud AzureUSGovernment grant --vault labkv --key "$KEY" \
			--account usgov-foundry --dry-run &&
		says "would send: PUT https://management.usgovcloudapi.net/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults/labkv/keys/$KEY/providers/Microsoft.Authorization/roleAssignments/" &&
		grep -q -- "--resource https://management.usgovcloudapi.net$" "$WORK/az.log" &&
		as_az_user expect 2 --cloud Mars check --vault labkv --key "$KEY" &&
		says "AzureChinaCloud"
}
run cloud_option_picks_the_cloud_endpoints clouds

help_pages() {
	for c in check grant bind rotate revoke status rotation-policy create-key create-vault \
		audit follow create-account create-hub; do
		"$CMK_BIN" "$c" --help | grep -q "usage: azkv-cmk $c" || {
			echo "no help for $c"
			return 1
		}
	done
	"$CMK_BIN" --help | grep -q 'Exit codes'
}
run help_for_every_command help_pages

harness_summary
