#!/bin/bash
# Rotation the way Foundry does it, against the emulator: the resource does
# not follow a new key version by itself, and a rebind does not re-encrypt
# (foundry-cmk-lab.txt, "Key rotation and management"; foundry-cmk-
# reference.txt, "Encryption Key Rotation"). Data written through the
# Foundry data plane (files on ACCOUNT.cognitiveservices.azure.com) before a
# rotation stays under the old version: readable after follow, unreadable
# once that version is disabled; status says so first, revoke --disable-key
# asks for --yes. Then azkv-cmk follow: dry run, real, idempotent, and each
# refusal with its one-line reason and exit code. Helpers in lib.sh.
set -u

HARNESS_NAME=cmk-rotation
# shellcheck source=lib.sh
. "$AZKV_TOP_SRCDIR/tests/cmk/lib.sh"

lab_setup grant bind || exit 1

# files METHOD PATH [JSON]: the Foundry data plane of $ACCOUNT (its files);
# prints the HTTP status, the body is in $WORK/files.json.
files() {
	curl -sS --max-time 20 --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT" -X "$1" \
		-H "Authorization: Bearer $(token https://cognitiveservices.azure.com)" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} -o "$WORK/files.json" -w '%{http_code}' \
		"https://$ACCOUNT.cognitiveservices.azure.com/openai/files$2?api-version=2024-10-21"
}

# upload TEXT: a file with TEXT, written with the data key in use; prints its id.
upload() {
	[ "$(files POST "" "{\"filename\":\"train.jsonl\",\"content\":\"$1\"}")" = 201 ] &&
		jq -r .id "$WORK/files.json"
}

# reads ID TEXT: the file reads back as TEXT.
reads() {
	local code
	code=$(files GET "/$1/content")
	[ "$code" = 200 ] && [ "$(cat "$WORK/files.json")" = "$2" ] || {
		echo "file $1: HTTP $code, want 200 \"$2\":"
		cat "$WORK/files.json"
		return 1
	}
}

# unreadable ID REASON: reading the file is refused: the key is inaccessible, for REASON.
unreadable() {
	local code
	code=$(files GET "/$1/content")
	[ "$code" = 403 ] &&
		jq -e --arg r "$2" '.error.code == "CustomerManagedKeyInaccessible" and
			.error.innererror.code == $r' "$WORK/files.json" >/dev/null || {
		echo "file $1: HTTP $code, want 403 CustomerManagedKeyInaccessible/$2:"
		cat "$WORK/files.json"
		return 1
	}
}


# enabled VERSION true|false
enabled() {
	kv PATCH "/keys/$KEY/$1" "{\"attributes\":{\"enabled\":$2}}"
}

# one_error: the failure is one "error:" line (and its fix).
one_error() {
	[ "$(grep -c 'error:' "$WORK/last.out")" = 1 ] || {
		echo "want one error line:"
		cat "$WORK/last.out"
		return 1
	}
}

ACCT_ID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.CognitiveServices/accounts/$ACCOUNT"
foundry "$ACCOUNT" '.keyAccessible == true' || exit 1
V1=$(jq -r .keyVersionInUse "$WORK/foundry.json")
F1=$(upload "written under v1") || exit 1

# ----------------------------------------------- the emulator does not follow
no_auto_follow() {
	V2=$(policy_rotates) && [ -n "$V2" ] && [ "$V2" != "$V1" ] &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V1\" and .keyAccessible == true" &&
		arm GET "$ACCT_ID" 2025-06-01 &&
		jq -e --arg v "$V1" '.properties.encryption.keyVaultProperties.keyVersion == $v' \
			"$WORK/arm.json" >/dev/null &&
		F1B=$(upload "still v1 after the rotation") &&
		foundry "$ACCOUNT" "[.dataKeys[] | select(.version == \"$V1\") | .files] == [2]" &&
		expect 1 --json status --account "$ACCOUNT" &&
		json '.drift[] | select(.id == "binding.not-current") | .fix | test("azkv-cmk follow")'
}
run a_new_version_is_not_followed_by_the_resource no_auto_follow

# ----------------------------------------------------------------- follow
follow_dry() {
	unchanged expect 0 follow --account "$ACCOUNT" --dry-run &&
		says "would send: PATCH https://management.azure.com$ACCT_ID\?api-version=" &&
		says "\"keyVersion\": \"$V2\"" &&
		unchanged expect 0 --json follow --account "$ACCOUNT" --dry-run &&
		json ".followed == false and .rebound == false and .currentVersion == \"$V2\"" &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V1\""
}
run follow_dry_run_changes_nothing follow_dry

follow_real() {
	expect 0 --json follow --account "$ACCOUNT" &&
		json ".followed == true and .rebound == true and .boundVersion == \"$V1\" and
			.currentVersion == \"$V2\" and .proof.wrapUnwrap == true and .policyRotates == true" &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V2\" and .keyAccessible == true" &&
		F2=$(upload "written under v2") &&
		reads "$F1" "written under v1" && reads "$F1B" "still v1 after the rotation" &&
		reads "$F2" "written under v2" &&
		# no re-encryption: the old data key stays under v1, new data under v2
		foundry "$ACCOUNT" "([.dataKeys[] | select(.version == \"$V1\") | .files] == [2]) and
			([.dataKeys[] | select(.version == \"$V2\") | .files] == [1])"
}
run follow_rebinds_verifies_proves_and_old_data_still_reads follow_real

follow_again() {
	unchanged expect 0 follow --account "$ACCOUNT" &&
		says "Nothing to follow: .* is bound to the current version $V2" &&
		unchanged expect 0 --json follow --account "$ACCOUNT" &&
		json '.followed == false'
}
run follow_twice_has_nothing_to_follow follow_again

# ------------------------------------------ older versions and their data
status_older() {
	expect 0 --json status --account "$ACCOUNT" &&
		json "[.olderVersions.versions[].version] == [\"$V1\"]" &&
		json '.olderVersions.assumption | test("no record")' &&
		expect 0 status --account "$ACCOUNT" &&
		says "Older versions that may still protect data" &&
		says "  $V1  enabled"
}
run status_names_the_older_version_that_protects_data status_older

# review finding 7: an older version that expired but is enabled is the
# normal state under a rotation policy with an expiry, and Key Vault still
# unwraps with it: a note, not drift (status exits 0).
status_older_expired() {
	local now past later
	now=$(date +%s) && past=$((now - 86400)) && later=$((now + 400 * 86400))
	kv PATCH "/keys/$KEY/$V1" "{\"attributes\":{\"exp\":$past}}" &&
		expect 0 --json status --account "$ACCOUNT" &&
		json '.olderVersions.versions[0] | .expired == true and (.note | test("still unwraps"))' &&
		json '.drift == []' &&
		expect 0 status --account "$ACCOUNT" &&
		says "  $V1  enabled, expired" && says 'expired: Key Vault still unwraps with it' &&
		reads "$F1" "written under v1"
	local rc=$?
	kv PATCH "/keys/$KEY/$V1" "{\"attributes\":{\"exp\":$later}}" || rc=1
	return $rc
}
run status_notes_an_expired_older_version_without_drift status_older_expired

revoke_old_unconfirmed() {
	unchanged expect 7 revoke $LAB --disable-key --key-version "$V1" &&
		says "Version $V1 is older than the version .* uses \($V2\)" &&
		says "becomes unreadable once it is disabled" &&
		says 'not confirmed' &&
		reads "$F1" "written under v1"
}
run revoke_disable_key_of_an_older_version_needs_yes_and_says_why revoke_old_unconfirmed

# review finding 10: at a terminal the older data's warning is said once
# (it was printed, then repeated in the question). script(1) gives the
# command a terminal; the answer "no" changes nothing.
revoke_old_at_a_terminal() {
	local cmd n
	# shellcheck disable=SC2086 # $LAB is options
	cmd=$(printf '%q ' "$CMK_BIN" ${CONF:+-c "$CONF"} -g "$RG" revoke $LAB --disable-key \
		--key-version "$V1")
	printf 'no\n' | timeout 60 script -qefc "$cmd" /dev/null >"$WORK/tty.out" 2>&1
	n=$(grep -c "becomes unreadable once it is disabled" "$WORK/tty.out")
	grep -q 'Type "yes" to go on' "$WORK/tty.out" && grep -q 'not confirmed' "$WORK/tty.out" &&
		[ "$n" = 1 ] && reads "$F1" "written under v1" || {
		echo "the warning was said $n time(s):"
		cat "$WORK/tty.out"
		return 1
	}
}
run revoke_disable_key_at_a_terminal_says_the_older_data_once revoke_old_at_a_terminal

disable_old() {
	expect 0 --json revoke $LAB --disable-key --key-version "$V1" --yes &&
		json ".disabledVersion == \"$V1\" and (.olderDataAtRisk | test(\"$V1\"))" &&
		unreadable "$F1" KeyDisabled && unreadable "$F1B" KeyDisabled &&
		reads "$F2" "written under v2" &&
		foundry "$ACCOUNT" '.keyAccessible == true' &&
		expect 1 --json status --account "$ACCOUNT" &&
		json ".drift[] | select(.id == \"data.older-version-disabled\") |
			.message | test(\"$V1\")" &&
		enabled "$V1" true && reads "$F1" "written under v1"
}
run disabling_the_old_version_makes_old_data_unreadable disable_old

# ------------------------------------------------------- follow refuses
refuse_disabled() {
	V3=$(policy_rotates) && enabled "$V3" false &&
		unchanged expect 3 follow --account "$ACCOUNT" &&
		says "cannot follow: the current version $V3 of key $KEY is disabled" && one_error &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V2\"" &&
		enabled "$V3" true
}
run follow_refuses_a_disabled_new_version refuse_disabled

refuse_no_grant() {
	expect 0 revoke $LAB --yes &&
		unchanged expect 3 follow --account "$ACCOUNT" &&
		says "cannot follow: .* has no grant of get, wrapKey and unwrapKey on key $KEY" &&
		says "fix: .*azkv-cmk grant" && one_error &&
		expect 0 grant $LAB
}
run follow_refuses_without_the_grant refuse_no_grant

refuse_unbound() {
	emu_admin add-account --name unbound-foundry --location eastus --identity system \
		--resource-group "$RG" >/dev/null &&
		unchanged expect 3 follow --account unbound-foundry &&
		says "cannot follow: .* is not bound to a customer-managed key" && one_error &&
		unchanged expect 5 follow --account no-such-foundry &&
		unchanged expect 2 follow &&
		unchanged expect 2 follow --account "$ACCOUNT" --key-version "$V1"
}
run follow_refuses_an_unbound_or_missing_resource refuse_unbound

# ------------------------------------------------------------ versionless
versionless() {
	expect 0 bind $LAB --versionless &&
		says "Foundry does not follow new key versions by itself" &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V3\"" &&
		V4=$(policy_rotates) &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V3\"" &&
		expect 1 --json status --account "$ACCOUNT" &&
		json '.drift[] | select(.id == "binding.versionless")' &&
		expect 0 --json follow --account "$ACCOUNT" &&
		json ".followed == true and .boundVersion == \"\" and .currentVersion == \"$V4\"" &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V4\"" &&
		unchanged expect 0 follow --account "$ACCOUNT" &&
		says 'Nothing to follow'
}
run versionless_binding_stays_put_until_follow_binds_the_current_version versionless

# rotate used to skip the rebind of a versionless binding, taking it to
# follow the new version by itself.
rotate_versionless() {
	expect 0 bind $LAB --versionless &&
		expect 0 --json rotate --account "$ACCOUNT" --no-prove &&
		V5=$(jq -r .keyVersion "$WORK/last.json") &&
		json '.rebound == true' &&
		foundry "$ACCOUNT" ".keyVersionInUse == \"$V5\""
}
run rotate_rebinds_a_versionless_binding rotate_versionless

# No rotation policy that rotates: follow still follows versions made by
# hand, and notes that none will come by themselves (not a refusal).
no_policy() {
	kv PUT "/keys/$KEY/rotationpolicy" '{"lifetimeActions":[{"trigger":{"timeBeforeExpiry":"P30D"},
		"action":{"type":"Notify"}}],"attributes":{"expiryTime":"P210D"}}' &&
		unchanged expect 0 --json follow --account "$ACCOUNT" &&
		json '.policyRotates == false and .followed == false' &&
		says "rotation policy does not rotate it" &&
		expect 0 rotation-policy set --vault labkv --key "$KEY" --rotate-after P6M
}
run follow_notes_a_policy_that_does_not_rotate no_policy

run follow_has_a_help_page eval '"$CMK_BIN" follow --help | grep -q "usage: azkv-cmk follow"'

harness_summary
