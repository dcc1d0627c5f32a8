#!/bin/bash
# azkv-cmk and the vault's audit and monitoring (issue 19, item 1): check's
# rules vault.audit-logs and key.near-expiry-listener, each warning and
# passing; audit enable (--dry-run, real, idempotent, merged into an
# existing setting, refusals of bad ids); audit status (text and --json);
# the status line. The Event Grid subscriptions are made the way the
# portal makes them (ARM PUTs, as the lab's admin). Run by `make check`;
# the helpers and the setup are in lib.sh.
set -u

HARNESS_NAME=cmk-audit
# shellcheck source=lib.sh
. "$AZKV_TOP_SRCDIR/tests/cmk/lib.sh"

lab_setup || exit 1
VAULT_ID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults/labkv"
LAW="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.OperationalInsights/workspaces/lab-law"
STORAGE="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Storage/storageAccounts/labaudit"
HUB_RULE="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.EventHub/namespaces/lab-events/authorizationrules/send"
DIAG="$VAULT_ID/providers/Microsoft.Insights/diagnosticSettings"
TOPIC="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.EventGrid/systemTopics/labkv-events"
EG_API=2022-06-15

# rule ID STATUS: the last check --json judged rule ID so.
rule() {
	json ".rules[] | select(.id == \"$1\") | .status == \"$2\""
}

# ------------------------------------------------------------- before: warnings
audit_logs_warns_without_a_setting() {
	expect 0 check --vault labkv --key "$KEY" &&
		says 'warn  vault.audit-logs +no diagnostic setting sends the vault.s audit events' &&
		says 'fix: azkv-cmk audit enable --vault labkv --workspace LOG_ANALYTICS_WORKSPACE_ID' &&
		expect 0 --json check --vault labkv --key "$KEY" &&
		rule vault.audit-logs warn &&
		json '.rules[] | select(.id == "vault.audit-logs") | .fix | test("audit enable")'
}
run audit_logs_warns_without_a_setting audit_logs_warns_without_a_setting

near_expiry_warns_without_a_listener() {
	expect 0 --json check --vault labkv --key "$KEY" &&
		rule key.near-expiry-listener warn &&
		json '.rules[] | select(.id == "key.near-expiry-listener") | .message | test("Notify action reaches no one")'
}
run near_expiry_warns_without_a_listener near_expiry_warns_without_a_listener

audit_status_says_nowhere() {
	expect 1 audit status --vault labkv &&
		says '^  \(none\)' &&
		says 'Audit events: not sent anywhere; fix: azkv-cmk audit enable' &&
		says 'Microsoft.KeyVault.KeyNearExpiry listeners: none' &&
		expect 1 --json audit status --vault labkv &&
		json '.auditEvents == [] and .diagnosticSettings == [] and .nearExpiryListeners == []'
}
run audit_status_says_nowhere audit_status_says_nowhere

status_line_says_nowhere() {
	expect 0 status --vault labkv --key "$KEY" &&
		says '^Audit events: not sent anywhere; fix: azkv-cmk audit enable'
}
run status_line_says_nowhere status_line_says_nowhere

# ------------------------------------------------------------- audit enable
enable_dry_run_prints_the_put() {
	unchanged expect 0 audit enable --vault labkv --workspace "$LAW" --dry-run &&
		says "would send: PUT https://management.azure.com$DIAG/azkv-cmk-audit\\?api-version=2021-05-01-preview" &&
		says "\"workspaceId\": \"$LAW\"" &&
		says '"categoryGroup": "audit"' &&
		says '"enabled": true' &&
		unchanged expect 0 --json audit enable --vault labkv --workspace "$LAW" --dry-run &&
		json '.changed == false'
}
run enable_dry_run_prints_the_put enable_dry_run_prints_the_put

enable_sends_audit_events_to_the_workspace() {
	expect 0 audit enable --vault labkv --workspace "$LAW" &&
		says 'now go to Log Analytics workspace lab-law \(setting azkv-cmk-audit\)' &&
		arm GET "$DIAG/azkv-cmk-audit" 2021-05-01-preview &&
		jq -e --arg law "$LAW" '.properties.workspaceId == $law and
			.properties.logs == [{"categoryGroup": "audit", "enabled": true}]' "$WORK/arm.json" >/dev/null
}
run enable_sends_audit_events_to_the_workspace enable_sends_audit_events_to_the_workspace

enable_twice_does_nothing() {
	unchanged expect 0 audit enable --vault labkv --workspace "$LAW" &&
		says 'already gets the audit events \(setting azkv-cmk-audit\)' &&
		says 'Nothing to do' &&
		unchanged expect 0 --json audit enable --vault labkv --workspace "$LAW" &&
		json '.changed == false'
}
run enable_twice_does_nothing enable_twice_does_nothing

# A destination added to the setting of that name keeps what it had.
enable_merges_into_the_named_setting() {
	expect 0 --json audit enable --vault labkv --event-hub-rule "$HUB_RULE" &&
		json '.changed == true' &&
		arm GET "$DIAG/azkv-cmk-audit" 2021-05-01-preview &&
		jq -e --arg law "$LAW" --arg hub "$HUB_RULE" '.properties.workspaceId == $law and
			.properties.eventHubAuthorizationRuleId == $hub' "$WORK/arm.json" >/dev/null
}
run enable_merges_into_the_named_setting enable_merges_into_the_named_setting

# review finding 6: a setting has one workspace; asking for another on the
# setting that sends to lab-law would silently stop audit to lab-law.
enable_refuses_to_replace_a_destination() {
	local law2="${LAW%lab-law}other-law"
	unchanged expect 3 audit enable --vault labkv --workspace "$law2" &&
		says 'diagnostic setting azkv-cmk-audit already sends to Log Analytics workspace lab-law; changing it to other-law would stop that' &&
		says 'fix: name another setting for it: audit enable ... --name NEW-NAME' &&
		unchanged expect 3 audit enable --vault labkv --workspace "$law2" --dry-run &&
		arm GET "$DIAG/azkv-cmk-audit" 2021-05-01-preview &&
		jq -e --arg law "$LAW" '.properties.workspaceId == $law' "$WORK/arm.json" >/dev/null
}
run enable_refuses_to_replace_a_destination enable_refuses_to_replace_a_destination

# A PUT that fails changed nothing, and --json says so.
enable_failed_put_is_not_changed() {
	local law2="${LAW%lab-law}failing-law"
	emu_admin fault --add '{"service": "arm", "method": "PUT", "path_regex": "diagnosticSettings/failing", "status": 500, "code": "InternalServerError", "message": "injected"}' >/dev/null || return 1
	expect 6 --json audit enable --vault labkv --workspace "$law2" --name failing &&
		json '.changed == false'
	local rc=$?
	emu_admin fault --clear >/dev/null
	return $rc
}
run enable_failed_put_is_not_changed enable_failed_put_is_not_changed

# Someone else's setting sends allLogs (AuditEvent among them) to the
# storage account: it already gets the audit events, and a second setting
# would be Azure's 409 (a data sink reused for one category).
enable_counts_all_logs_of_another_setting() {
	arm PUT "$DIAG/ops-archive" 2021-05-01-preview \
		"{\"properties\": {\"storageAccountId\": \"$STORAGE\",
			\"logs\": [{\"categoryGroup\": \"allLogs\", \"enabled\": true}]}}" &&
		unchanged expect 0 audit enable --vault labkv --storage-account "$STORAGE" --name archive &&
		says 'storage account labaudit already gets the audit events \(setting ops-archive\)' &&
		says 'Nothing to do'
}
run enable_counts_all_logs_of_another_setting enable_counts_all_logs_of_another_setting

enable_refuses_bad_destinations() {
	local ml="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.MachineLearningServices/workspaces/hub1"
	unchanged expect 2 audit enable --vault labkv --workspace lab-law &&
		says 'error: --workspace "lab-law" is not the ARM id of a Log Analytics workspace' &&
		says 'Microsoft.OperationalInsights/workspaces/NAME' &&
		unchanged expect 2 audit enable --vault labkv --workspace "$ml" &&
		says 'is not the ARM id of a Log Analytics workspace' &&
		unchanged expect 2 audit enable --vault labkv --workspace "$LAW/../x" &&
		unchanged expect 2 audit enable --vault labkv --storage-account "${STORAGE%labaudit}LabAudit" &&
		says 'is not the ARM id of a storage account' &&
		unchanged expect 2 audit enable --vault labkv --event-hub-rule "${HUB_RULE%/authorizationrules/send}" &&
		says "is not the ARM id of an Event Hubs namespace's authorization rule" &&
		unchanged expect 2 audit enable --vault labkv &&
		says 'where should the audit events go' &&
		unchanged expect 2 audit enable --vault labkv --workspace "$LAW" --name 'a b' &&
		says 'is not a valid diagnostic setting name' &&
		unchanged expect 2 audit status --vault labkv --workspace "$LAW" &&
		says 'audit status does not take --workspace' &&
		unchanged expect 2 audit forget --vault labkv &&
		says 'unknown audit action "forget"' &&
		unchanged expect 2 audit status --vault labkv --key-version 1 &&
		says 'audit does not take --key-version'
}
run enable_refuses_bad_destinations enable_refuses_bad_destinations

# ------------------------------------------------------------- after: passes
audit_logs_pass_with_a_setting() {
	expect 0 --json check --vault labkv --key "$KEY" &&
		rule vault.audit-logs pass &&
		json '.rules[] | select(.id == "vault.audit-logs") | .message |
			test("go to Log Analytics workspace lab-law \\(setting azkv-cmk-audit\\)")'
}
run audit_logs_pass_with_a_setting audit_logs_pass_with_a_setting

audit_status_shows_where() {
	expect 0 audit status --vault labkv &&
		says '^  azkv-cmk-audit  \(audit events\)' &&
		says "Log Analytics workspace +$LAW" &&
		says '^  ops-archive  \(audit events\)' &&
		says '^Audit events: to Log Analytics workspace lab-law \(setting azkv-cmk-audit\), event hub send \(setting azkv-cmk-audit\), storage account labaudit \(setting ops-archive\)' &&
		expect 0 --json audit status --vault labkv &&
		json "[.auditEvents[].destination] | sort == ([\"$LAW\", \"$HUB_RULE\", \"$STORAGE\"] | sort)"
}
run audit_status_shows_where audit_status_shows_where

status_line_shows_where() {
	expect 0 status --vault labkv --key "$KEY" &&
		says '^Audit events: to Log Analytics workspace lab-law \(setting azkv-cmk-audit\)' &&
		expect 0 --json status --vault labkv --key "$KEY" &&
		json "[.auditEvents[] | select(.kind == \"workspaceId\") | .destination] == [\"$LAW\"]"
}
run status_line_shows_where status_line_shows_where

# Subscriptions that do not deliver this key's KeyNearExpiry do not count:
# another event type, or a subject filter (the key's name) it fails.
near_expiry_ignores_other_subscriptions() {
	local webhook='{"endpointType": "WebHook", "properties": {"endpointUrl": "https://ops.example/hook"}}'
	arm PUT "$TOPIC" "$EG_API" "{\"location\": \"eastus\", \"properties\": {\"source\": \"$VAULT_ID\",
		\"topicType\": \"Microsoft.KeyVault.vaults\"}}" &&
		arm PUT "$TOPIC/eventSubscriptions/new-versions" "$EG_API" "{\"properties\": {\"destination\": $webhook,
			\"filter\": {\"includedEventTypes\": [\"Microsoft.KeyVault.KeyNewVersionCreated\"]}}}" &&
		arm PUT "$TOPIC/eventSubscriptions/other-key" "$EG_API" "{\"properties\": {\"destination\": $webhook,
			\"filter\": {\"includedEventTypes\": [\"Microsoft.KeyVault.KeyNearExpiry\"],
			\"subjectBeginsWith\": \"other-\"}}}" &&
		expect 0 --json check --vault labkv --key "$KEY" &&
		rule key.near-expiry-listener warn
}
run near_expiry_ignores_other_subscriptions near_expiry_ignores_other_subscriptions

near_expiry_passes_with_a_listener() {
	arm PUT "$TOPIC/eventSubscriptions/key-near-expiry" "$EG_API" "{\"properties\": {\"destination\":
		{\"endpointType\": \"StorageQueue\", \"properties\": {\"resourceId\": \"$STORAGE\", \"queueName\": \"kv\"}},
		\"filter\": {\"includedEventTypes\": [\"Microsoft.KeyVault.KeyNearExpiry\"]}}}" &&
		expect 0 --json check --vault labkv --key "$KEY" &&
		rule key.near-expiry-listener pass &&
		json '.rules[] | select(.id == "key.near-expiry-listener") | .message | test("key-near-expiry")' &&
		expect 0 audit status --vault labkv --key "$KEY" &&
		says '^  key-near-expiry on system topic labkv-events \(StorageQueue\)'
}
run near_expiry_passes_with_a_listener near_expiry_passes_with_a_listener

# A system topic's name is 3-128 letters, digits and hyphens
# (resource-name-rules, Microsoft.EventGrid/systemTopics), longer than a
# workspace's 33: a long one is read, not refused.
near_expiry_long_topic_name() {
	local long="${TOPIC%labkv-events}labkv-key-vault-events-system-topic-for-lab"
	arm DELETE "$TOPIC" "$EG_API" &&
		arm PUT "$long" "$EG_API" "{\"location\": \"eastus\", \"properties\": {\"source\": \"$VAULT_ID\",
			\"topicType\": \"Microsoft.KeyVault.vaults\"}}" &&
		arm PUT "$long/eventSubscriptions/key-near-expiry" "$EG_API" "{\"properties\": {\"destination\":
			{\"endpointType\": \"StorageQueue\", \"properties\": {\"resourceId\": \"$STORAGE\", \"queueName\": \"kv\"}},
			\"filter\": {\"includedEventTypes\": [\"Microsoft.KeyVault.KeyNearExpiry\"]}}}" &&
		expect 0 --json check --vault labkv --key "$KEY" &&
		rule key.near-expiry-listener pass
}
run near_expiry_listener_on_a_long_system_topic_name near_expiry_long_topic_name

# A setting of that name whose audit entry is off: the entry is turned on,
# not given a second time (Azure keeps one entry per category group).
enable_turns_on_a_disabled_audit_entry() {
	local law2="${LAW%lab-law}ops-law"
	arm PUT "$DIAG/kv-ops" 2021-05-01-preview "{\"properties\": {\"workspaceId\": \"$law2\",
		\"logs\": [{\"categoryGroup\": \"audit\", \"enabled\": false}]}}" &&
		expect 0 audit enable --vault labkv --workspace "$law2" --name kv-ops &&
		arm GET "$DIAG/kv-ops" 2021-05-01-preview &&
		jq -e '.properties.logs == [{"categoryGroup": "audit", "enabled": true}]' "$WORK/arm.json" >/dev/null || {
			jq . "$WORK/arm.json"
			return 1
		}
}
run enable_turns_on_a_disabled_audit_entry enable_turns_on_a_disabled_audit_entry

help_page() {
	"$CMK_BIN" audit --help >"$WORK/last.out" &&
		says 'azkv-cmk audit enable --vault V --workspace LOG_ANALYTICS_WORKSPACE_ID' &&
		"$CMK_BIN" check --help >"$WORK/last.out" &&
		says 'vault.audit-logs' && says 'key.near-expiry-listener'
}
run audit_help_page help_page

harness_summary
