#!/bin/bash
# Every credential type, end to end through the module against the
# emulator: a wrap/unwrap round trip per type (azkv-envelope seals with
# the vault key's public half and opens by unwrapping in the vault, which
# needs a token), the default chain picking the right credential from each
# environment, a token expiring under 16 threads, and each failure with its
# CKR_* code and a log line naming the cause and the fix. Run by `make
# check` (AZKV_TOP_SRCDIR, AZKV_TOP_BUILDDIR, AZKV_MODULE), or by hand.
#
# Each identity below is granted get/wrapKey/unwrapKey on the vault and
# nothing else shares it, so a round trip that works proves that this
# credential's identity, and no other, got the token.
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE AZKV_TOP_SRCDIR
# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"
HARNESS_NAME=cred
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

CHECKS="$AZKV_TOP_BUILDDIR/tests/integration/p11_checks"
THREADS="$AZKV_TOP_BUILDDIR/tests/integration/p11_threads"
ENVELOPE="$AZKV_TOP_BUILDDIR/tools/azkv-envelope"
FAKES="$AZKV_TOP_SRCDIR/tests/fakes"
VAULT=https://demo.vault.azure.net
CKR_GENERAL_ERROR=0x5
CKR_DEVICE_ERROR=0x30

emu_start "$WORK/emulator" || exit 1
emu_admin add-vault --name demo --purge-protection >/dev/null || exit 1
emu_admin create-key --vault demo --name cmk >/dev/null || exit 1
TENANT=$(jq -r .default_tenant "$EMU_STATE/emulator.json")
IMDS="https://127.0.0.1:$EMU_PORT"
# http.connect_to sends every request to the emulator, so an endpoint
# that does not answer is one whose connections the emulator drops.
IMDS_GONE='{"service": "imds", "drop": true}'
head -c 20000 /dev/urandom >"$WORK/plain"
export AZKV_PKCS11_LOG_LEVEL=debug

# identity NAME [add-identity options]: a new identity that may use the
# vault key; prints add-identity's JSON.
identity() {
	local name=$1 id
	shift
	id=$(emu_admin add-identity --name "$name" "$@") || return 1
	emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$id")" \
		--keys get,wrapKey,unwrapKey >/dev/null || return 1
	echo "$id"
}

# config FILE CREDENTIAL_JSON: the module's configuration with that
# credential section ("null": none), reaching the emulator.
config() {
	jq -n --argjson cred "$2" --arg ca "$EMU_CA" --arg to "127.0.0.1:$EMU_PORT" \
		--arg url "$VAULT" '{vaults: [{url: $url, keys: ["cmk"]}],
		http: {ca_file: $ca, connect_to: $to}} + (if $cred == null then {} else {credential: $cred} end)' \
		>"$1"
}

# roundtrip NAME: seal and open a file with the vault key under the
# configuration $AZKV_PKCS11_CONFIG, logging to $WORK/NAME.log.
roundtrip() {
	export AZKV_PKCS11_LOG_FILE="$WORK/$1.log"
	ours "$ENVELOPE" seal --key cmk --in "$WORK/plain" --out "$WORK/$1.sealed" &&
		ours "$ENVELOPE" open --in "$WORK/$1.sealed" --out "$WORK/$1.opened" &&
		cmp "$WORK/plain" "$WORK/$1.opened"
}

# fails NAME CKR PATTERN...: finding the vault's objects fails with CKR and
# the module's log matches each pattern.
fails() {
	local name=$1 ckr=$2 p
	shift 2
	AZKV_PKCS11_LOG_FILE="$WORK/$name.log" ours "$CHECKS" expect-find "$ckr" || return 1
	for p in "$@"; do
		has "$WORK/$name.log" "$p" || return 1
	done
}

emu_requests() { # PATTERN: how many requests the emulator's log shows
	grep -c -E "$1" "$EMU_STATE/emulator.log"
}

config "$WORK/default.json" null

# ------------------------------------------------------------------ client secret, environment
environment_credential() {
	local id
	id=$(identity env-app) || return 1
	config "$WORK/env.json" '{"type": "environment"}'
	AZURE_TENANT_ID=$(jq -r .tenant_id <<<"$id") AZURE_CLIENT_ID=$(jq -r .client_id <<<"$id") \
		AZURE_CLIENT_SECRET=$(jq -r .client_secret <<<"$id") \
		AZKV_PKCS11_CONFIG="$WORK/env.json" roundtrip env &&
		has "$WORK/env.log" "credential: client_secret"
}
run environment-client-secret environment_credential

environment_missing() {
	config "$WORK/env-missing.json" '{"type": "environment"}'
	AZKV_PKCS11_CONFIG="$WORK/env-missing.json" AZKV_PKCS11_LOG_FILE="$WORK/env-missing.log" \
		ours "$CHECKS" expect-init $CKR_GENERAL_ERROR &&
		has "$WORK/env-missing.log" "AZURE_TENANT_ID is not set"
}
run environment-variables-missing-fails-init environment_missing

# ------------------------------------------------------------------ client certificate
# The emulator's Entra verifies the assertion's signature against the
# certificate registered on the app, and its aud, iss, sub, exp and nbf.
CERT_APP=$(identity cert-app) || exit 1
emu_admin add-certificate --identity cert-app --generate --subject CN=ci-job >"$WORK/cert-app.json" ||
	exit 1
jq -r '.private_key, .certificate' "$WORK/cert-app.json" >"$WORK/ci.pem"
chmod 600 "$WORK/ci.pem"

# cert_config FILE CERT_FILE [EXTRA_JSON]: a client_certificate credential of cert-app.
cert_config() {
	config "$1" "$(jq -n --arg t "$TENANT" --arg c "$(jq -r .client_id <<<"$CERT_APP")" \
		--arg f "$2" --argjson x "${3:-{\}}" \
		'{type: "client_certificate", tenant_id: $t, client_id: $c, certificate_file: $f} + $x')"
}

certificate_pem_rs256() {
	local want
	cert_config "$WORK/cert.json" "$WORK/ci.pem"
	want=$(jq -r .thumbprint "$WORK/cert-app.json" | tr a-f A-F)
	AZKV_PKCS11_CONFIG="$WORK/cert.json" roundtrip cert &&
		has "$WORK/cert.log" "credential: client_certificate" &&
		has "$WORK/cert.log" "client certificate $WORK/ci.pem: CN=ci-job, thumbprint $want, RS256"
}
run client-certificate-pem-rs256-x5t certificate_pem_rs256

certificate_pkcs12_ps256() {
	openssl pkcs12 -export -in "$WORK/ci.pem" -inkey "$WORK/ci.pem" -passout pass:pfx-pass-1 \
		-out "$WORK/ci.pfx" || return 1
	printf 'pfx-pass-1\n' >"$WORK/ci.pfx.pass"
	chmod 600 "$WORK/ci.pfx.pass"
	cert_config "$WORK/pfx.json" "$WORK/ci.pfx" "$(jq -n --arg p "$WORK/ci.pfx.pass" \
		'{certificate_password_file: $p}')"
	AZKV_PKCS11_CONFIG="$WORK/pfx.json" roundtrip pfx || return 1
	cert_config "$WORK/ps256.json" "$WORK/ci.pfx" "$(jq -n --arg p "$WORK/ci.pfx.pass" \
		'{certificate_password_file: $p, assertion_alg: "PS256"}')"
	AZKV_PKCS11_CONFIG="$WORK/ps256.json" roundtrip ps256 && has "$WORK/ps256.log" "PS256"
}
run client-certificate-pkcs12-with-password-and-ps256 certificate_pkcs12_ps256

# Subject name + issuer: the app trusts a subject, not a thumbprint; the
# assertion carries its chain (x5c) up to a CA Entra trusts.
certificate_subject_name_issuer() {
	local id
	id=$(identity sni-app) || return 1
	emu_admin issue-certificate --subject CN=sni.ci.example >"$WORK/sni.json" &&
		emu_admin trust-subject --identity sni-app --subject CN=sni.ci.example >/dev/null || return 1
	jq -r '.private_key, .chain' "$WORK/sni.json" >"$WORK/sni.pem"
	CERT_APP=$id cert_config "$WORK/sni.json.conf" "$WORK/sni.pem" '{"send_certificate_chain": true}'
	AZKV_PKCS11_CONFIG="$WORK/sni.json.conf" roundtrip sni &&
		has "$WORK/sni.log" "sending its chain \\(x5c\\)" || return 1
	# Without the chain, the certificate is not one registered on the app.
	CERT_APP=$id cert_config "$WORK/sni-nochain.json" "$WORK/sni.pem"
	AZKV_PKCS11_CONFIG="$WORK/sni-nochain.json" fails sni-nochain $CKR_DEVICE_ERROR "AADSTS700027"
}
run client-certificate-subject-name-and-issuer-with-x5c certificate_subject_name_issuer

certificate_not_registered() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.pem" -subj /CN=other \
		-days 30 -out "$WORK/other.crt" 2>/dev/null && cat "$WORK/other.crt" >>"$WORK/other.pem" ||
		return 1
	cert_config "$WORK/other.json" "$WORK/other.pem"
	AZKV_PKCS11_CONFIG="$WORK/other.json" fails cert-other $CKR_DEVICE_ERROR \
		"HTTP 401 invalid_client: AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application"
}
run client-certificate-not-registered-on-the-app certificate_not_registered

# Read at C_Initialize: what is wrong with the file fails it, saying what.
certificate_unusable() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ec.pem" \
		-subj /CN=ec -days 30 -out "$WORK/ec.crt" 2>/dev/null && cat "$WORK/ec.crt" >>"$WORK/ec.pem" ||
		return 1
	local f why
	for f in "missing.pem:cannot be read: .*credential.certificate_file" \
		"ci.crt-only:holds no private key" "ci.pfx:neither PEM nor a PKCS#12 file that this password opens" \
		"ec.pem:the key is not RSA"; do
		why=${f#*:}
		f=${f%%:*}
		[ "$f" = ci.crt-only ] && jq -r .certificate "$WORK/cert-app.json" >"$WORK/$f"
		cert_config "$WORK/bad-cert.json" "$WORK/$f"
		AZKV_PKCS11_CONFIG="$WORK/bad-cert.json" AZKV_PKCS11_LOG_FILE="$WORK/bad-cert-$f.log" \
			ours "$CHECKS" expect-init $CKR_GENERAL_ERROR &&
			has "$WORK/bad-cert-$f.log" "client certificate $WORK/$f.*$why" || return 1
	done
}
run client-certificate-unreadable-or-wrong-fails-init certificate_unusable

environment_certificate() {
	config "$WORK/env-cert.json" '{"type": "environment"}'
	AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$(jq -r .client_id <<<"$CERT_APP") \
		AZURE_CLIENT_CERTIFICATE_PATH="$WORK/ci.pfx" AZURE_CLIENT_CERTIFICATE_PASSWORD=pfx-pass-1 \
		AZKV_PKCS11_CONFIG="$WORK/env-cert.json" roundtrip env-cert &&
		has "$WORK/env-cert.log" "credential: client_certificate"
}
run environment-client-certificate environment_certificate

# ------------------------------------------------------------------ managed identity: IMDS
# The emulator serves IMDS by path on loopback; imds_endpoint (or
# AZURE_POD_IDENTITY_AUTHORITY_HOST) points the module at it.
VM_MI=$(identity vm-mi --managed) || exit 1
UA_MI=$(identity ua-mi --managed) || exit 1
emu_admin imds-identity --identity "$(jq -r .client_id <<<"$VM_MI")" >/dev/null || exit 1

imds_system_assigned() {
	config "$WORK/imds.json" "$(jq -n --arg e "$IMDS" '{type: "managed_identity", imds_endpoint: $e}')"
	AZKV_PKCS11_CONFIG="$WORK/imds.json" roundtrip imds &&
		has "$WORK/imds.log" "credential: managed_identity \\(IMDS\\)" &&
		has "$EMU_STATE/emulator.log" "GET 127.0.0.1:$EMU_PORT/metadata/identity/oauth2/token 200"
}
run managed-identity-imds-system-assigned imds_system_assigned

# A user-assigned identity by each of its names. Only ua-mi may use the
# vault through these: IMDS answers for vm-mi without a selector.
imds_user_assigned() {
	local by value
	emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$VM_MI")" --keys "" \
		>/dev/null || return 1
	for by in client_id object_id resource_id; do
		case $by in
		client_id) value=$(jq -r .client_id <<<"$UA_MI") ;;
		object_id) value=$(jq -r .object_id <<<"$UA_MI") ;;
		resource_id) value="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ua-mi" ;;
		esac
		config "$WORK/imds-$by.json" "$(jq -n --arg e "$IMDS" --arg by "$by" --arg v "$value" \
			'{type: "managed_identity", imds_endpoint: $e} + {($by): $v}')"
		AZKV_PKCS11_CONFIG="$WORK/imds-$by.json" roundtrip "imds-$by" || return 1
	done
	emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$VM_MI")" \
		--keys get,wrapKey,unwrapKey >/dev/null
}
run managed-identity-imds-user-assigned-by-client-object-and-resource-id imds_user_assigned

# IMDS answers 410, 429 and 5xx while it updates or is busy; the module
# retries them as the SDKs do (Retry-After 0 keeps the test short; the
# schedule itself is unit-tested).
imds_retries() {
	local status
	for status in 503 410 429; do
		emu_admin fault --add "{\"service\": \"imds\", \"status\": $status, \"count\": 2, \"retry_after\": 0}" \
			>/dev/null || return 1
		AZKV_PKCS11_CONFIG="$WORK/imds.json" roundtrip "imds-$status" &&
			has "$WORK/imds-$status.log" "HTTP $status; retry 1 " &&
			has "$WORK/imds-$status.log" "HTTP $status; retry 2 " || return 1
	done
	emu_admin fault --clear >/dev/null
}
run managed-identity-imds-retries-410-429-5xx imds_retries

imds_unreachable() {
	emu_admin fault --add "$IMDS_GONE" >/dev/null || return 1
	AZKV_PKCS11_CONFIG="$WORK/imds.json" fails imds-dead $CKR_DEVICE_ERROR \
		"managed_identity \\(IMDS\\): GET .*127.0.0.1" "no managed identity endpoint answers here" \
		"choose another credential.type"
	local rc=$?
	emu_admin fault --clear >/dev/null
	return $rc
}
run managed-identity-imds-unreachable imds_unreachable

imds_unknown_identity() {
	config "$WORK/imds-unknown.json" "$(jq -n --arg e "$IMDS" \
		'{type: "managed_identity", imds_endpoint: $e, client_id: "00000000-1111-2222-3333-444444444444"}')"
	AZKV_PKCS11_CONFIG="$WORK/imds-unknown.json" fails imds-unknown $CKR_DEVICE_ERROR \
		"HTTP 400" "Identity not found" "assigned to this resource"
}
run managed-identity-imds-identity-not-assigned imds_unknown_identity

# ------------------------------------------------------------------ workload identity
# The emulator's test OIDC issuer signs the pod's service-account token;
# the app's federated credential trusts that issuer and subject.
WI_APP=$(identity wi-app) || exit 1
WI_SUBJECT=system:serviceaccount:cmk:encryptor
emu_admin add-federated-credential --identity wi-app --subject "$WI_SUBJECT" >/dev/null || exit 1
# project_token FILE: a fresh service-account token, swapped in atomically
# as the kubelet does.
project_token() {
	emu_admin issue-federated-token --subject "$WI_SUBJECT" | jq -r .token >"$1.new" &&
		mv "$1.new" "$1"
}
project_token "$WORK/sa-token" || exit 1
config "$WORK/wi.json" "$(jq -n --arg t "$TENANT" --arg c "$(jq -r .client_id <<<"$WI_APP")" \
	--arg f "$WORK/sa-token" '{type: "workload_identity", tenant_id: $t, client_id: $c, token_file: $f}')"

workload_identity() {
	AZKV_PKCS11_CONFIG="$WORK/wi.json" roundtrip wi &&
		has "$WORK/wi.log" "credential: workload_identity" || return 1
	# From the environment the AKS webhook sets, with no credential section.
	AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$(jq -r .client_id <<<"$WI_APP") \
		AZURE_FEDERATED_TOKEN_FILE="$WORK/sa-token" AZKV_PKCS11_CONFIG="$WORK/default.json" \
		roundtrip wi-default &&
		has "$WORK/wi-default.log" "credential default: workload_identity answered"
}
run workload-identity-federated-token workload_identity

workload_identity_wrong_subject() {
	emu_admin issue-federated-token --subject system:serviceaccount:other:intruder |
		jq -r .token >"$WORK/intruder-token" || return 1
	jq --arg f "$WORK/intruder-token" '.credential.token_file = $f' "$WORK/wi.json" \
		>"$WORK/wi-intruder.json"
	AZKV_PKCS11_CONFIG="$WORK/wi-intruder.json" fails wi-intruder $CKR_DEVICE_ERROR \
		"AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:other:intruder'"
}
run workload-identity-untrusted-subject-refused workload_identity_wrong_subject

workload_token_file_missing() {
	config "$WORK/wi-missing.json" "$(jq -n --arg t "$TENANT" --arg f "$WORK/no-such-token" \
		'{type: "workload_identity", tenant_id: $t, client_id: "11111111-2222-3333-4444-555555555555", token_file: $f}')"
	AZKV_PKCS11_CONFIG="$WORK/wi-missing.json" fails wi-missing $CKR_DEVICE_ERROR \
		"federated token file $WORK/no-such-token cannot be read: No such file" \
		"azure.workload.identity/use"
}
run workload-identity-token-file-missing workload_token_file_missing

workload_token_file_is_a_fifo() {
	mkfifo "$WORK/token-fifo" || return 1
	config "$WORK/wi-fifo.json" "$(jq -n --arg t "$TENANT" --arg f "$WORK/token-fifo" \
		'{type: "workload_identity", tenant_id: $t, client_id: "11111111-2222-3333-4444-555555555555", token_file: $f}')"
	# A FIFO nobody writes to must not hang the caller.
	AZKV_PKCS11_CONFIG="$WORK/wi-fifo.json" timeout 20 \
		"$CHECKS" expect-find $CKR_DEVICE_ERROR >/dev/null 2>&1 &&
		AZKV_PKCS11_CONFIG="$WORK/wi-fifo.json" fails wi-fifo $CKR_DEVICE_ERROR "not a regular file"
}
run workload-identity-token-file-fifo-refused workload_token_file_is_a_fifo

# ------------------------------------------------------------------ managed identity: App Service, Arc
APP_MI=$(identity app-mi --managed) || exit 1

app_service() {
	local as
	as=$(emu_admin app-service --identity app-mi) || return 1
	config "$WORK/appsvc.json" '{"type": "managed_identity"}'
	IDENTITY_ENDPOINT=$(jq -r .endpoint <<<"$as") IDENTITY_HEADER=$(jq -r .header <<<"$as") \
		AZKV_PKCS11_CONFIG="$WORK/appsvc.json" roundtrip appsvc &&
		has "$WORK/appsvc.log" "credential: managed_identity \\(App Service\\)" &&
		has "$EMU_STATE/emulator.log" "GET 127.0.0.1:$EMU_PORT/msi/token 200" || return 1
	# The default chain finds it from the same variables.
	IDENTITY_ENDPOINT=$(jq -r .endpoint <<<"$as") IDENTITY_HEADER=$(jq -r .header <<<"$as") \
		AZKV_PKCS11_CONFIG="$WORK/default.json" roundtrip appsvc-default &&
		has "$WORK/appsvc-default.log" "credential default: managed_identity \\(App Service\\) answered" ||
		return 1
	# A header the platform did not issue is refused.
	IDENTITY_ENDPOINT=$(jq -r .endpoint <<<"$as") IDENTITY_HEADER=not-the-header \
		AZKV_PKCS11_CONFIG="$WORK/appsvc.json" fails appsvc-bad $CKR_DEVICE_ERROR \
		"managed_identity \\(App Service\\): token for https://vault.azure.net: HTTP 401"
}
run managed-identity-app-service app_service

azure_arc() {
	local arc dir
	arc=$(emu_admin arc --identity app-mi) || return 1
	dir=$(jq -r .key_dir <<<"$arc")
	config "$WORK/arc.json" "$(jq -n --arg d "$dir" '{type: "managed_identity", arc_key_dir: $d}')"
	IDENTITY_ENDPOINT=$(jq -r .identity_endpoint <<<"$arc") IMDS_ENDPOINT=$(jq -r .imds_endpoint <<<"$arc") \
		AZKV_PKCS11_CONFIG="$WORK/arc.json" roundtrip arc &&
		has "$WORK/arc.log" "credential: managed_identity \\(Azure Arc\\)" || return 1
	# The agent's key file is read only from the agent's directory.
	config "$WORK/arc-elsewhere.json" '{"type": "managed_identity"}'
	IDENTITY_ENDPOINT=$(jq -r .identity_endpoint <<<"$arc") IMDS_ENDPOINT=$(jq -r .imds_endpoint <<<"$arc") \
		AZKV_PKCS11_CONFIG="$WORK/arc-elsewhere.json" fails arc-elsewhere $CKR_DEVICE_ERROR \
		"refused the key file the agent named \\($dir/.*\\.key\\): it must be a .key file in /var/opt/azcmagent/tokens" ||
		return 1
	# Arc has only the system-assigned identity.
	config "$WORK/arc-ua.json" "$(jq -n --arg d "$dir" '{type: "managed_identity", arc_key_dir: $d, client_id: "x"}')"
	IDENTITY_ENDPOINT=$(jq -r .identity_endpoint <<<"$arc") IMDS_ENDPOINT=$(jq -r .imds_endpoint <<<"$arc") \
		AZKV_PKCS11_CONFIG="$WORK/arc-ua.json" AZKV_PKCS11_LOG_FILE="$WORK/arc-ua.log" \
		ours "$CHECKS" expect-init $CKR_GENERAL_ERROR &&
		has "$WORK/arc-ua.log" "Azure Arc has only the system-assigned identity"
}
run managed-identity-azure-arc azure_arc

# ------------------------------------------------------------------ tokens expiring mid-run
# Tokens of 8 s (Entra answers expires_in 7): refreshed from 4 s on,
# expired at 7 s. p11_threads unwraps once, sleeps past expiry, then 16
# threads unwrap at once: one token request serves them all (the 4 s before
# the new token's refresh point leave room for a slow run, under valgrind).
token_expires_under_16_threads() {
	local id before after
	id=$(identity threads-app) || return 1
	config "$WORK/threads.json" "$(jq -n --argjson id "$id" '{type: "client_secret",
		tenant_id: $id.tenant_id, client_id: $id.client_id, client_secret: $id.client_secret}')"
	emu_admin token-lifetime --seconds 8 >/dev/null || return 1
	before=$(emu_requests "POST login.microsoftonline.com/$TENANT/oauth2/v2.0/token 200")
	AZKV_PKCS11_CONFIG="$WORK/threads.json" AZKV_PKCS11_LOG_FILE="$WORK/threads.log" \
		ours "$THREADS" cmk 16 8
	local rc=$?
	after=$(emu_requests "POST login.microsoftonline.com/$TENANT/oauth2/v2.0/token 200")
	emu_admin token-lifetime --reset >/dev/null
	echo "token requests: $((after - before))"
	[ $rc -eq 0 ] && [ $((after - before)) -eq 2 ]
}
run token-expires-and-is-refreshed-once-for-16-threads token_expires_under_16_threads

# The federated token file changes (the kubelet rotates it) while a
# process runs: its next token request reads the new one. The file is
# rotated once the first token has been logged (not after a fixed time: a
# slow start under valgrind would read the new file first), within 60 s.
workload_token_file_rotates() {
	emu_admin token-lifetime --seconds 3 >/dev/null || return 1
	: >"$WORK/wi-rotate.log"
	(
		for _ in $(seq 600); do
			grep -q "from workload_identity, expires in" "$WORK/wi-rotate.log" && break
			sleep 0.1
		done
		project_token "$WORK/sa-token"
	) &
	local rotator=$!
	AZKV_PKCS11_CONFIG="$WORK/wi.json" AZKV_PKCS11_LOG_FILE="$WORK/wi-rotate.log" \
		ours "$THREADS" cmk 4 4
	local rc=$?
	wait "$rotator"
	emu_admin token-lifetime --reset >/dev/null
	[ $rc -eq 0 ] && has "$WORK/wi-rotate.log" "workload identity: $WORK/sa-token changed; read again"
}
run workload-identity-token-file-read-again-when-it-changes workload_token_file_rotates

# ------------------------------------------------------------------ Azure CLI
CLI_USER=$(identity cli-user) || exit 1
# with_az COMMAND...: COMMAND with the fake az on PATH, logged in as cli-user.
with_az() {
	PATH="$FAKES:$PATH" FAKE_AZ_STATE="$EMU_STATE" FAKE_AZ_IDENTITY="$(jq -r .client_id <<<"$CLI_USER")" \
		FAKE_AZ_LOG="$WORK/az.log" "$@"
}

azure_cli() {
	config "$WORK/cli.json" '{"type": "azure_cli"}'
	: >"$WORK/az.log"
	AZKV_PKCS11_CONFIG="$WORK/cli.json" with_az roundtrip cli &&
		has "$WORK/cli.log" "credential: azure_cli" &&
		has "$WORK/az.log" "^account get-access-token --output json --resource https://vault.azure.net --tenant $TENANT$" ||
		return 1
	# (Without a tenant of its own, az is asked in the tenant of the vault's
	# challenge, as the SDKs' AzureCliCredential is.) With a tenant: az is
	# asked for a token in it.
	config "$WORK/cli-tenant.json" "$(jq -n --arg t "$TENANT" '{type: "azure_cli", tenant_id: $t}')"
	AZKV_PKCS11_CONFIG="$WORK/cli-tenant.json" with_az roundtrip cli-tenant &&
		has "$WORK/az.log" "--resource https://vault.azure.net --tenant $TENANT$" || return 1
	# az before 2.54 prints only expiresOn, in local time.
	AZKV_PKCS11_CONFIG="$WORK/cli.json" FAKE_AZ_MODE=old with_az roundtrip cli-old
}
run azure-cli-token-for-the-logged-in-user azure_cli

azure_cli_missing() {
	AZKV_PKCS11_CONFIG="$WORK/cli.json" PATH=/usr/bin:/bin fails cli-missing $CKR_DEVICE_ERROR \
		"the Azure CLI \\(az\\) is not on PATH" "install-azure-cli"
}
run azure-cli-not-installed azure_cli_missing

azure_cli_not_logged_in() {
	AZKV_PKCS11_CONFIG="$WORK/cli.json" FAKE_AZ_MODE=not-logged-in with_az \
		fails cli-nologin $CKR_DEVICE_ERROR "not logged in: run 'az login( --tenant $TENANT)?'" \
		"Please run 'az login' to setup account"
}
run azure-cli-not-logged-in azure_cli_not_logged_in

azure_cli_hangs_or_babbles() {
	config "$WORK/cli-fast.json" '{"type": "azure_cli", "process_timeout_ms": 1000}'
	AZKV_PKCS11_CONFIG="$WORK/cli-fast.json" FAKE_AZ_MODE=hang with_az \
		fails cli-hang $CKR_DEVICE_ERROR "did not answer within 1000 ms" &&
		AZKV_PKCS11_CONFIG="$WORK/cli.json" FAKE_AZ_MODE=garbage with_az \
			fails cli-garbage $CKR_DEVICE_ERROR "not a JSON object"
}
run azure-cli-hang-is-killed-garbage-refused azure_cli_hangs_or_babbles

# ------------------------------------------------------------------ the default chain
# No credential section ($WORK/default.json): environment, workload
# identity, managed identity, Azure CLI, the first available answering, as
# DefaultAzureCredential.

default_picks_environment() {
	local id
	id=$(identity default-env) || return 1
	AZURE_TENANT_ID=$(jq -r .tenant_id <<<"$id") AZURE_CLIENT_ID=$(jq -r .client_id <<<"$id") \
		AZURE_CLIENT_SECRET=$(jq -r .client_secret <<<"$id") \
		AZKV_PKCS11_CONFIG="$WORK/default.json" with_az roundtrip default-env &&
		has "$WORK/default-env.log" "credential default: client_secret answered" &&
		! grep -q "unavailable" "$WORK/default-env.log"
}
run default-chain-picks-the-environment default_picks_environment

default_picks_imds() {
	AZURE_POD_IDENTITY_AUTHORITY_HOST=$IMDS AZKV_PKCS11_CONFIG="$WORK/default.json" \
		with_az roundtrip default-imds &&
		has "$WORK/default-imds.log" "environment is unavailable: environment: AZURE_TENANT_ID is not set" &&
		has "$WORK/default-imds.log" "workload_identity is unavailable" &&
		has "$WORK/default-imds.log" "credential default: managed_identity \\(IMDS\\) answered"
}
run default-chain-picks-managed-identity default_picks_imds

default_picks_cli() {
	emu_admin fault --add "$IMDS_GONE" >/dev/null || return 1
	AZURE_POD_IDENTITY_AUTHORITY_HOST=$IMDS AZKV_PKCS11_CONFIG="$WORK/default.json" \
		with_az roundtrip default-cli &&
		has "$WORK/default-cli.log" "managed_identity is unavailable: managed_identity \\(IMDS\\): no answer from" &&
		has "$WORK/default-cli.log" "credential default: azure_cli answered"
	local rc=$?
	emu_admin fault --clear >/dev/null
	return $rc
}

# On a VM whose IMDS knows no identity for it, IMDS answers 400: the
# chain passes on (the SDKs call that identity "unavailable").
default_passes_an_imds_without_identity() {
	AZURE_POD_IDENTITY_AUTHORITY_HOST=$IMDS AZURE_CLIENT_ID=00000000-1111-2222-3333-444444444444 \
		AZKV_PKCS11_CONFIG="$WORK/default.json" with_az roundtrip default-noid &&
		has "$WORK/default-noid.log" "managed_identity is unavailable: .*HTTP 400" &&
		has "$WORK/default-noid.log" "credential default: azure_cli answered"
}
run default-chain-picks-azure-cli default_picks_cli
run default-chain-passes-an-imds-without-the-identity default_passes_an_imds_without_identity

default_finds_nothing() {
	emu_admin fault --add "$IMDS_GONE" >/dev/null || return 1
	AZURE_POD_IDENTITY_AUTHORITY_HOST=$IMDS AZKV_PKCS11_CONFIG="$WORK/default.json" PATH=/usr/bin:/bin \
		fails default-none $CKR_DEVICE_ERROR "no credential is available here" \
		"\\[environment\\] environment: AZURE_TENANT_ID is not set" \
		"\\[workload_identity\\] workload_identity: AZURE_FEDERATED_TOKEN_FILE" \
		"\\[managed_identity\\] managed_identity \\(IMDS\\): no answer" \
		"\\[azure_cli\\] azure_cli: the Azure CLI \\(az\\) is not on PATH"
	local rc=$?
	emu_admin fault --clear >/dev/null
	return $rc
}
run default-chain-with-nothing-says-why-for-each default_finds_nothing

# ------------------------------------------------------------------ sovereign clouds
# A vault in Azure China: the cloud table gives its scope
# (https://vault.azure.cn/.default) and Entra ID (login.chinacloudapi.cn),
# which the emulator serves as Azure does (clouds.py).
china_vault() {
	local id
	id=$(identity china-app) || return 1
	jq -n --argjson id "$id" --arg ca "$EMU_CA" --arg to "127.0.0.1:$EMU_PORT" '{
		vaults: [{url: "https://demo.vault.azure.cn", keys: ["cmk"]}],
		credential: {type: "client_secret", tenant_id: $id.tenant_id,
			client_id: $id.client_id, client_secret: $id.client_secret},
		http: {ca_file: $ca, connect_to: $to}}' >"$WORK/china.json"
	AZKV_PKCS11_CONFIG="$WORK/china.json" roundtrip china &&
		has "$WORK/china.log" "AzureChinaCloud cloud, authority https://login.chinacloudapi.cn" &&
		has "$WORK/china.log" "token for https://vault.azure.cn/.default" &&
		has "$EMU_STATE/emulator.log" "POST login.chinacloudapi.cn/$TENANT/oauth2/v2.0/token 200"
}
run sovereign-cloud-vault-takes-its-clouds-scope-and-authority china_vault

# ------------------------------------------------------------------ secrets stay out of the logs
no_secret_in_logs() {
	local f
	for f in "$WORK"/*.log; do
		if grep -qE 'eyJ[A-Za-z0-9_-]{20}' "$f"; then
			echo "a token appears in $f"
			return 1
		fi
	done
	if grep -qF "$(jq -r .client_secret <<<"$CLI_USER")" "$WORK"/*.log; then
		echo "a client secret appears in a log"
		return 1
	fi
}
run no-token-or-secret-in-any-log no_secret_in_logs

harness_summary
