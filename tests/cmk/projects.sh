#!/bin/bash
# azkv-cmk and Foundry projects (issue 19, items 2 and 5) against the
# emulator: --project on check, grant, status and revoke judges the
# project's own managed identity (foundry-cmk-reference.txt, "Use
# customer-managed keys with Azure Key Vault": grant the project's
# system-assigned identity); status --account lists every project and
# whether its identity holds the grant; the refusals; and the vault's
# permission model per resource kind (rule vault.permission-model,
# create-vault --for, grant's note). Starts where the lab ends (lib.sh's
# lab_setup grant bind).
set -u

HARNESS_NAME=cmk-projects
# shellcheck source=lib.sh
. "$AZKV_TOP_SRCDIR/tests/cmk/lib.sh"

lab_setup grant bind || exit 1
ACCOUNT_ID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/$ACCOUNT"
# The account must allow projects (the PATCH the AVM module's issue #119 makes).
arm PATCH "$ACCOUNT_ID" 2025-06-01 '{"properties": {"allowProjectManagement": true}}' || exit 1
for p in proj1 proj2; do
	emu_admin add-project --account "$ACCOUNT" --name "$p" >/dev/null || exit 1
done
emu_admin add-project --account "$ACCOUNT" --name bare --identity none >/dev/null || exit 1
P1=$(arm GET "$ACCOUNT_ID/projects/proj1" 2025-06-01 &&
	jq -r .identity.principalId "$WORK/arm.json") || exit 1

# ------------------------------------------------------------- refusals
refusals() {
	unchanged expect 2 grant --vault labkv --key "$KEY" --project proj1 &&
		says '--project needs --account' &&
		expect 2 check --vault labkv --key "$KEY" --account "$ACCOUNT" --project -x &&
		says 'not a valid project name' &&
		expect 2 status --account "$ACCOUNT" --project proj1 --principal "$P1" &&
		says 'two different identities' &&
		unchanged expect 5 grant $LAB --project nosuch &&
		says 'projects/nosuch was not found' && says 'lists the account.s projects' &&
		unchanged expect 3 grant $LAB --project bare &&
		says 'project bare of .* has no managed identity' &&
		says "grant the project's system-assigned identity" &&
		says "fix: turn on its system-assigned identity: az rest --method patch --url '$ACCOUNT_ID/projects/bare" &&
		unchanged expect 5 grant $LAB --project proj1 --identity /subscriptions/x/uai &&
		says 'has no user-assigned identity' &&
		expect 2 bind $LAB --project proj1 &&
		says 'bind does not take --project'
}
run project_refusals refusals

# ------------------------------------------------------- check and grant
check_then_grant() {
	expect 1 --json check $LAB --project proj1 &&
		json '.project | endswith("/projects/proj1")' &&
		json '.rules[] | select(.id == "resource.identity") | .status == "pass"' &&
		json '.rules[] | select(.id == "resource.identity") | .message | test("project proj1")' &&
		json '.rules[] | select(.id == "identity.grant") | .status == "fail" and
			(.fix | test("--account '"$ACCOUNT"' --project proj1"))' &&
		unchanged expect 0 grant $LAB --project proj1 --dry-run &&
		says "would send: PUT https://management.azure.com/.*/keys/$KEY/providers/Microsoft.Authorization/roleAssignments/" &&
		says "\"principalId\": \"$P1\"" &&
		expect 0 --json grant $LAB --project proj1 &&
		json '.principalId == "'"$P1"'" and .changed == true' &&
		unchanged expect 0 grant $LAB --project proj1 &&
		says 'Nothing to do' &&
		expect 0 --json check $LAB --project proj1 &&
		json '.rules[] | select(.id == "identity.grant") | .status == "pass"'
}
run check_and_grant_a_projects_identity check_then_grant

# ----------------------------------------------------------------- status
status_lists_projects() {
	expect 1 --json status --account "$ACCOUNT" &&
		json '[.projects[].name] == ["proj1", "proj2", "bare"]' &&
		json '.projects[0].isDefault == true' &&
		json '.projects[] | select(.name == "proj1") | .identities[0].holdsGrant == true' &&
		json '.projects[] | select(.name == "proj2") | .identities[0].holdsGrant == false' &&
		json '.projects[] | select(.name == "bare") | .identities == []' &&
		json '[.drift[].id] | sort == ["project.grant-missing", "project.identity-missing"]' &&
		json '.drift[] | select(.id == "project.grant-missing") | .fix | test("--project proj2")' &&
		json '.drift[] | select(.id == "project.identity-missing") | .fix | test("projects/bare.*--project bare")' &&
		expect 1 status --account "$ACCOUNT" &&
		says 'Projects of '"$ACCOUNT" && says 'LACKS the grant' &&
		says 'project bare has no managed identity to grant' &&
		expect 0 grant $LAB --project proj2 &&
		arm DELETE "$ACCOUNT_ID/projects/bare" 2025-06-01 &&
		expect 0 --json status --account "$ACCOUNT" &&
		json '[.projects[].identities[].holdsGrant] == [true, true]' &&
		json '.drift == []' &&
		expect 0 --json status --account "$ACCOUNT" --project proj1 &&
		json 'has("projects") | not' && json '.binding.identity == "'"$P1"'"'
}
run status_account_lists_each_projects_grant status_lists_projects

# ----------------------------------------------------------------- revoke
revoke_project() {
	unchanged expect 0 revoke $LAB --project proj1 --yes --dry-run &&
		says 'would send: DELETE https://management.azure.com/.*roleAssignments/' &&
		expect 0 --json revoke $LAB --project proj1 --yes &&
		json '.changed == true' &&
		expect 1 --json check $LAB --project proj1 &&
		json '.rules[] | select(.id == "identity.grant") | .status == "fail"' &&
		expect 0 --json check $LAB &&
		json '.rules[] | select(.id == "identity.grant") | .status == "pass"' &&
		unchanged expect 0 revoke $LAB --project proj1 --yes &&
		says 'Nothing to remove' &&
		expect 1 status --account "$ACCOUNT" &&
		says 'LACKS the grant'
}
run revoke_a_projects_grant_leaves_the_account revoke_project

# ------------------------------------------- permission model per resource kind
model_for_account() {
	expect 0 --json check $LAB &&
		json '.rules[] | select(.id == "vault.permission-model") | .status == "pass" and
			(.message | test("as the lab sets it"))' &&
		expect 2 create-vault --vault hubkv --location eastus --for workspace &&
		says 'unknown --for "workspace"' &&
		unchanged expect 0 create-vault --vault hubkv --location eastus --for hub --dry-run &&
		says '"enableRbacAuthorization": false' &&
		unchanged expect 0 create-vault --vault hubkv --location eastus --for hub --model rbac \
			--dry-run &&
		says '"enableRbacAuthorization": true' &&
		expect 0 create-vault --vault hubkv --location eastus --for hub &&
		says 'access policies' &&
		emu_admin show-vault --vault hubkv >"$WORK/vault.json" &&
		jq -e '.enable_rbac_authorization == false' "$WORK/vault.json" >/dev/null
}
run permission_model_account_rbac_and_create_vault_for_hub model_for_account

emu_admin set-policy --vault hubkv --identity "$(jq -r .client_id <<<"$ADMIN")" \
	--keys get,list,create,update,wrapKey,unwrapKey >/dev/null || exit 1
emu_admin create-key --vault hubkv --name hubkey --kty RSA --size 2048 >/dev/null || exit 1
WS="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.MachineLearningServices/workspaces"
for hub in hub-ap:hubkv:hubkey hub-rbac:labkv:$KEY; do
	IFS=: read -r name vault key <<<"$hub"
	arm PUT "$WS/$name" 2024-10-01 '{"location":"eastus","kind":"Hub",
		"identity":{"type":"SystemAssigned"},"properties":{"encryption":{"status":"Enabled",
		"keyVaultProperties":{"keyVaultArmId":"/subscriptions/'"$SUB"'/resourceGroups/'"$RG"'/providers/Microsoft.KeyVault/vaults/'"$vault"'",
		"keyIdentifier":"https://'"$vault"'.vault.azure.net/keys/'"$key"'"}}}}' || exit 1
done

model_for_hub() {
	expect 0 --json grant --vault hubkv --key hubkey --workspace hub-ap &&
		json '.model == "access-policy" and (has("permissionModelNote") | not)' &&
		expect 0 --json check --vault hubkv --key hubkey --workspace hub-ap &&
		json '.rules[] | select(.id == "vault.permission-model") | .status == "pass" and
			(.message | test("hub"))' &&
		expect 0 grant --vault labkv --key "$KEY" --workspace hub-rbac &&
		says 'note: the vault uses Azure RBAC.*hub' &&
		expect 0 --json check --vault labkv --key "$KEY" --workspace hub-rbac &&
		json '.rules[] | select(.id == "vault.permission-model") | .status == "warn" and
			(.message | test("You cannot use Azure RBAC at this time"))' &&
		expect 1 --json check --vault hubkv --key hubkey --account "$ACCOUNT" &&
		json '.rules[] | select(.id == "vault.permission-model") | .status == "warn"' &&
		expect 0 --json check --vault hubkv --key hubkey &&
		json '.rules[] | select(.id == "vault.permission-model") | .status == "warn" and
			(.message | test("--workspace HUB"))'
}
run permission_model_follows_the_resource_kind model_for_hub

# review finding 4: grants that cannot be read are not "LACKS the grant":
# holdsGrant null, no grant drift, and status exits with the read's code
# (4: Azure's 403), not 0 or 1.
UNREADABLE_GRANTS='{"service": "arm", "method": "GET", "path_regex": "/providers/Microsoft.Authorization/roleAssignments",
	"status": 403, "code": "AuthorizationFailed", "message": "injected: no roleAssignments/read"}'
status_grants_unreadable() {
	emu_admin fault --add "$UNREADABLE_GRANTS" >/dev/null || return 1
	expect 4 --json status --account "$ACCOUNT" &&
		json '[.projects[].identities[].holdsGrant] | length > 0 and all(. == null)' &&
		json '[.drift[].id | select(startswith("project.") or startswith("grant."))] == []' &&
		json '.grantNotes[] | select(.id == "identity.abac-condition") | .status == "warn" and (.message | test("not judged"))' &&
		expect 4 status --account "$ACCOUNT" &&
		says 'unknown \(its grants could not be read\)' &&
		! grep -q 'LACKS the grant' "$WORK/last.out"
	local rc=$?
	emu_admin fault --clear >/dev/null
	return $rc
}
run status_with_unreadable_grants_says_unknown_and_fails status_grants_unreadable

# review finding 8: a project with only a user-assigned identity is judged
# by it without --identity; with two, --identity is asked for (exit 2).
UAI="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/proj-uai"
UAI2="${UAI%proj-uai}proj-uai2"
project_user_assigned_only() {
	emu_admin add-project --account "$ACCOUNT" --name uaonly --identity "$UAI" >/dev/null &&
		expect 1 --json check $LAB --project uaonly &&
		json '.rules[] | select(.id == "resource.identity") | .status == "pass" and (.message | test("user-assigned identity .*proj-uai"))' &&
		json '.rules[] | select(.id == "identity.grant") | .status == "fail"' &&
		arm PATCH "$ACCOUNT_ID/projects/uaonly" 2025-06-01 \
			"{\"identity\": {\"type\": \"UserAssigned\", \"userAssignedIdentities\": {\"$UAI\": {}, \"$UAI2\": {}}}}" &&
		unchanged expect 2 check $LAB --project uaonly &&
		says 'project uaonly has no system-assigned identity and 2 user-assigned ones' &&
		says 'fix: name the one to judge: --identity' &&
		expect 1 check $LAB --project uaonly --identity "$UAI2" &&
		arm DELETE "$ACCOUNT_ID/projects/uaonly" 2025-06-01
}
run project_with_only_user_assigned_identities project_user_assigned_only

help_topics() {
	"$CMK_BIN" help projects | grep -q -- 'status --account A without --project' &&
		"$CMK_BIN" help permission-model | grep -q -- '--for account|hub' &&
		"$CMK_BIN" --help | grep -q 'help TOPIC'
}
run help_topics_projects_and_permission_model help_topics

harness_summary
