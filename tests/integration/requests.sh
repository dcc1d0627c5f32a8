#!/bin/bash
# The request loop, end to end through the module against the emulator,
# read from the emulator's request log (which marks the requests that
# carried an Authorization header, "+auth", or a body, "+body"):
#   - the first request to a vault carries neither a token nor its body;
#     after the vault's 401 challenge, one request per operation;
#   - no token goes to a host that never challenged, or whose challenge
#     names another resource, or another tenant not allowed
#     (credential.additionally_allowed_tenants);
#   - 429 and 503 are retried to success, a dropped connection of a sign
#     is retried, and the operation's deadline stops an endless 503.
# Run by `make check` (AZKV_TOP_SRCDIR, AZKV_TOP_BUILDDIR, AZKV_MODULE).
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE AZKV_TOP_SRCDIR
# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"
HARNESS_NAME=req
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

CHECKS="$AZKV_TOP_BUILDDIR/tests/integration/p11_checks"
VAULT=https://demo.vault.azure.net
HOST=demo.vault.azure.net
CKR_DEVICE_ERROR=0x30
# A host the emulator's certificate covers that is no Key Vault (the
# emulator's own OIDC issuer): a typo'd or hostile vault URL.
NOT_A_VAULT=oidc.azkv-emulator.test

emu_start "$WORK/emulator" --localhost-vault demo || exit 1
emu_admin add-vault --name demo >/dev/null || exit 1
emu_admin create-key --vault demo --name cmk >/dev/null || exit 1
ID=$(emu_admin add-identity --name reqloop) || exit 1
emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$ID")" \
	--keys get,sign >/dev/null || exit 1
TENANT=$(jq -r .tenant_id <<<"$ID")
OTHER_TENANT=0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d
EMU_LOG="$EMU_STATE/emulator.log"
head -c 100 /dev/urandom >"$WORK/data"
export AZKV_PKCS11_LOG_LEVEL=debug

# config FILE [URL [EXTRA_JSON]]: the module's configuration for vault URL
# (default the demo vault) as the test identity, with EXTRA merged in.
config() {
	jq -n --argjson id "$ID" --arg ca "$EMU_CA" --arg to "127.0.0.1:$EMU_PORT" \
		--arg url "${2:-$VAULT}" --argjson extra "${3:-{\}}" '{
		vaults: [{url: $url, keys: ["cmk"]}],
		credential: {type: "client_secret", tenant_id: $id.tenant_id,
			     client_id: $id.client_id, client_secret: $id.client_secret},
		http: {ca_file: $ca, connect_to: $to},
		retry: {base_delay_ms: 50}} * $extra' >"$1"
}
config "$WORK/module.json"
export AZKV_PKCS11_CONFIG="$WORK/module.json"

# requests: the emulator's log lines since the last `mark`.
mark() {
	MARK=$(wc -l <"$EMU_LOG")
}
requests() {
	tail -n +"$((MARK + 1))" "$EMU_LOG"
}

# count PATTERN: how many requests since the mark match.
count() {
	requests | grep -c -E -- "$1"
}

# want_count N PATTERN: exactly N requests since the mark match.
want_count() {
	local n
	n=$(count "$2")
	[ "$n" = "$1" ] || {
		echo "want $1 requests matching '$2', got $n:"
		requests
		return 1
	}
}

# no_token_to HOST: nothing since the mark carried a token to HOST, and no
# token was even asked of Entra ID.
no_token_to() {
	want_count 0 " $1/.* \+auth" && want_count 0 "oauth2/v2.0/token"
}

# sign N: N signatures with the vault key in one process, logging to
# $WORK/$NAME.log.
sign() {
	local args=() i
	for ((i = 0; i < $1; i++)); do
		args+=(SHA256_RSA_PKCS "$WORK/data" "$WORK/sig$i")
	done
	ours "$CHECKS" sign cmk "${args[@]}"
}

# fault JSON: adds an emulator fault rule (cleared by the next test).
fault() {
	emu_admin fault --clear >/dev/null && emu_admin fault --add "$1" >/dev/null
}

# challenge RESOURCE TENANT: a hostile 401 challenge header.
challenge() {
	printf 'Bearer authorization=\\"https://login.microsoftonline.com/%s\\", resource=\\"%s\\"' \
		"$2" "$1"
}

# The SDKs' challenge flow (azure-sdk-for-python azure-keyvault-keys
# _shared/challenge_auth_policy.py): the first request without token or
# body, the 401, then each operation once, with its token.
challenge_first_then_one_request_per_operation() {
	mark
	AZKV_PKCS11_LOG_FILE="$WORK/steady.log" sign 5 || return 1
	requests | grep " $HOST/" | head -1 | grep -q -E "^.* 401 [0-9]+ms$" || {
		echo "the first request to the vault was not a bare one answered 401:"
		requests
		return 1
	}
	want_count 1 " $HOST/.* 401 " &&
		want_count 1 " $HOST/[^ ]* [0-9]+ [0-9]+ms$" &&
		want_count 5 "POST $HOST/keys/cmk/[^/]+/sign 200 [0-9]+ms \+auth \+body$" &&
		want_count 5 "POST $HOST/.*sign"
}

no_token_to_a_host_that_sends_no_challenge() {
	config "$WORK/notvault.json" "https://$NOT_A_VAULT"
	mark
	AZKV_PKCS11_CONFIG="$WORK/notvault.json" AZKV_PKCS11_LOG_FILE="$WORK/notvault.log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR || return 1
	want_count 1 " $NOT_A_VAULT/keys/cmk 404 [0-9]+ms$" &&
		no_token_to "$NOT_A_VAULT" &&
		has "$WORK/notvault.log" "$NOT_A_VAULT sent no 401 challenge, so no token was sent"
}

# A host that challenges for Key Vault's resource (a token good for every
# vault) is not a vault: vault.azure.net is not a suffix of its name.
no_token_for_a_challenge_of_another_domain() {
	config "$WORK/notvault.json" "https://$NOT_A_VAULT"
	fault "{\"service\": \"oidc\", \"status\": 401,
		\"www_authenticate\": \"$(challenge https://vault.azure.net "$TENANT")\"}" || return 1
	mark
	AZKV_PKCS11_CONFIG="$WORK/notvault.json" AZKV_PKCS11_LOG_FILE="$WORK/evil.log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR || return 1
	no_token_to "$NOT_A_VAULT" &&
		has "$WORK/evil.log" "token for https://vault.azure.net/.default \(host vault.azure.net\), which does not belong to the vault's host $NOT_A_VAULT; no token sent" || return 1
	# And a vault whose challenge asks for another service's token.
	fault "{\"service\": \"keyvault\", \"status\": 401,
		\"www_authenticate\": \"$(challenge https://management.azure.com "$TENANT")\"}" || return 1
	mark
	AZKV_PKCS11_LOG_FILE="$WORK/arm-scope.log" ours "$CHECKS" expect-find $CKR_DEVICE_ERROR &&
		no_token_to "$HOST" &&
		has "$WORK/arm-scope.log" "host management.azure.com\), which does not belong to the vault's host $HOST"
}

# A vault on loopback (a local test server, https://localhost here: the
# emulator serves the demo vault there too) has no vault host name for a
# challenge's resource to match: it still gets only a Key Vault or
# Managed HSM token, never one for another service (ARM) that any local
# process could ask for.
loopback_vault_gets_only_a_vault_token() {
	config "$WORK/loopback.json" https://localhost
	fault "{\"service\": \"keyvault\", \"status\": 401,
		\"www_authenticate\": \"$(challenge https://management.azure.com "$TENANT")\"}" || return 1
	mark
	AZKV_PKCS11_CONFIG="$WORK/loopback.json" AZKV_PKCS11_LOG_FILE="$WORK/loopback-arm.log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR || return 1
	no_token_to localhost &&
		has "$WORK/loopback-arm.log" "host management.azure.com\), which does not belong to the vault's host localhost \(a loopback vault gets Key Vault or Managed HSM tokens only\)" || return 1
	# The vault's own challenge (resource https://vault.azure.net) is taken.
	emu_admin fault --clear >/dev/null || return 1
	mark
	AZKV_PKCS11_CONFIG="$WORK/loopback.json" AZKV_PKCS11_LOG_FILE="$WORK/loopback.log" \
		ours "$CHECKS" expect-find 0 &&
		want_count 1 " localhost/keys.* 401 [0-9]+ms$" &&
		want_count 1 " localhost/keys/cmk 200 [0-9]+ms \+auth$"
}

# azure-identity: a challenge's tenant other than the credential's needs
# additionally_allowed_tenants.
challenge_tenant_needs_the_allow_list() {
	fault "{\"service\": \"keyvault\", \"status\": 401,
		\"www_authenticate\": \"$(challenge https://vault.azure.net $OTHER_TENANT)\"}" || return 1
	mark
	AZKV_PKCS11_LOG_FILE="$WORK/tenant.log" ours "$CHECKS" expect-find $CKR_DEVICE_ERROR &&
		no_token_to "$HOST" &&
		has "$WORK/tenant.log" "tenant $OTHER_TENANT, but the credential is for tenant $TENANT" &&
		has "$WORK/tenant.log" "add \"$OTHER_TENANT\" \(or \"\*\"\) to credential.additionally_allowed_tenants" ||
		return 1
	# Allowed, the token is asked of that tenant (where this app does not
	# exist, so the emulator's Entra ID refuses it).
	config "$WORK/allowed.json" "$VAULT" "{\"credential\": {\"additionally_allowed_tenants\": [\"$OTHER_TENANT\"]}}"
	mark
	AZKV_PKCS11_CONFIG="$WORK/allowed.json" AZKV_PKCS11_LOG_FILE="$WORK/allowed.log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR &&
		want_count 1 "POST [^ ]*/$OTHER_TENANT/oauth2/v2.0/token" &&
		want_count 0 " $HOST/.* \+auth"
}

# The retries: count the requests the emulator saw and the module's log.
# sign_retried LOG FAULT SEEN PATTERN...: with FAULT on the vault's sign
# for two requests, one sign succeeds: the emulator saw two tries as SEEN
# and one answered 200, and the module's LOG holds each PATTERN.
sign_retried() {
	local log=$1 seen=$3 pattern
	fault "$2" || return 1
	shift 3
	mark
	AZKV_PKCS11_LOG_FILE="$log" sign 1 &&
		want_count 2 "POST $HOST/keys/cmk/[^/]+/sign $seen" &&
		want_count 1 "POST $HOST/keys/cmk/[^/]+/sign 200 " || return 1
	for pattern in "$@"; do
		has "$log" "$pattern" || return 1
	done
}

throttled_then_success() {
	sign_retried "$WORK/429.log" '{"service": "keyvault", "method": "POST", "path_regex": "/sign$",
		"status": 429, "retry_after": 0, "count": 2}' "429 " \
		"throttled \(429\); retry 1 of 3" "throttled \(429\); retry 2 of 3"
}

unavailable_then_success() {
	sign_retried "$WORK/503.log" '{"service": "keyvault", "method": "POST", "path_regex": "/sign$",
		"status": 503, "count": 2}' "503 " "HTTP 503; retry 2 of 3"
}

# A sign changes nothing in the vault: a connection lost after sending it
# is retried (the first loss on a reused connection by libcurl itself,
# the second by the module).
dropped_sign_is_retried() {
	sign_retried "$WORK/drop.log" '{"service": "keyvault", "method": "POST", "path_regex": "/sign$",
		"drop": true, "count": 2}' "-> connection closed \+auth \+body" \
		"connection failed; retry 1 of 3"
}

# Retry-After 1 s against a 2.5 s deadline: at most three tries of the ten
# allowed, then a clean failure naming the deadline.
deadline_stops_an_endless_503() {
	config "$WORK/deadline.json" "$VAULT" \
		'{"retry": {"max_retries": 10, "base_delay_ms": 50, "deadline_ms": 2500}}'
	fault '{"service": "keyvault", "method": "GET", "path_regex": "^/keys/cmk$", "status": 503,
		"retry_after": 1}' || return 1
	mark
	AZKV_PKCS11_CONFIG="$WORK/deadline.json" AZKV_PKCS11_LOG_FILE="$WORK/deadline.log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR || return 1
	local n
	n=$(count "GET $HOST/keys/cmk 503 ")
	[ "$n" -ge 1 ] && [ "$n" -le 4 ] || {
		echo "want 1 to 4 tries before the deadline, got $n"
		return 1
	}
	has "$WORK/deadline.log" "would pass the operation's deadline \(retry.deadline_ms 2500\)"
}

run challenge_first_then_one_request_per_operation challenge_first_then_one_request_per_operation
run no_token_to_a_host_that_sends_no_challenge no_token_to_a_host_that_sends_no_challenge
run no_token_for_a_challenge_of_another_domain no_token_for_a_challenge_of_another_domain
run loopback_vault_gets_only_a_vault_token loopback_vault_gets_only_a_vault_token
run challenge_tenant_needs_the_allow_list challenge_tenant_needs_the_allow_list
run throttled_then_success throttled_then_success
run unavailable_then_success unavailable_then_success
run dropped_sign_is_retried dropped_sign_is_retried
run deadline_stops_an_endless_503 deadline_stops_an_endless_503
emu_admin fault --clear >/dev/null

harness_summary
