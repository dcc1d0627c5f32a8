#!/bin/bash
# The demo: a Foundry-style customer-managed key in a (local, emulated) Key
# Vault wraps and unwraps a data-encryption key through the PKCS#11 module.
#   tools/demo.sh [BUILD_DIR]     (scripts/demo.sh builds first, then runs this)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
export AZKV_TOP_SRCDIR="$top"
# shellcheck source=../tests/emulator/emulator.sh
. "$top/tests/emulator/emulator.sh"

MODULE="$build/.libs/azkv-pkcs11.so"
ENVELOPE="$build/tools/azkv-envelope"
CMK="$build/tools/azkv-cmk"
VAULT_NAME=aifoundrycmkkv
VAULT="https://$VAULT_NAME.vault.azure.net"
KEY=aifoundry-encryption-key
WORK=$(mktemp -d /tmp/azkv-demo.XXXXXX)
trap 'emu_stop; rm -rf "$WORK"' EXIT

n=0
step() {
	n=$((n + 1))
	printf '\n\033[1m[%d] %s\033[0m\n' "$n" "$*"
}
note() { printf '    %s\n' "$*"; }

step "Start the local Azure emulator (Key Vault data plane + Entra ID, HTTPS on loopback)"
emu_start "$WORK/emulator"
note "listening on 127.0.0.1:$EMU_PORT; test CA at $EMU_CA"
note "clients use the real host names (login.microsoftonline.com, $VAULT_NAME.vault.azure.net),"
note "connect to the emulator instead (curl --connect-to), and verify TLS against the test CA."

step "Create the key vault and an administrator identity"
emu_admin add-vault --name "$VAULT_NAME" --location eastus --purge-protection >/dev/null
ADMIN=$(emu_admin add-identity --name kv-admin)
emu_admin set-policy --vault "$VAULT_NAME" --identity "$(jq -r .client_id <<<"$ADMIN")" \
	--keys get,list,create,update,rotate,getrotationpolicy,setrotationpolicy,wrapKey,unwrapKey \
	>/dev/null
note "vault $VAULT in eastus (soft delete and purge protection on, access policies);"
note "kv-admin may manage keys"

step "As kv-admin: get a token from Entra ID and create the CMK (RSA-2048), as in the Foundry lab"
CURL=(curl -sS --fail-with-body --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT")
TENANT=$(jq -r .tenant_id <<<"$ADMIN")
TOKEN=$("${CURL[@]}" "https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token" \
	--data-urlencode grant_type=client_credentials \
	--data-urlencode "client_id=$(jq -r .client_id <<<"$ADMIN")" \
	--data-urlencode "client_secret=$(jq -r .client_secret <<<"$ADMIN")" \
	--data-urlencode "scope=https://vault.azure.net/.default" | jq -r .access_token)
note "POST https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token -> bearer token (not shown)"
CREATED=$("${CURL[@]}" -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	"$VAULT/keys/$KEY/create?api-version=7.4" \
	-d '{"kty":"RSA","key_size":2048,"key_ops":["wrapKey","unwrapKey"]}')
note "POST $VAULT/keys/$KEY/create?api-version=7.4"
note "-> kid $(jq -r .key.kid <<<"$CREATED")"
note "   kty $(jq -r .key.kty <<<"$CREATED"), key_ops $(jq -c .key.key_ops <<<"$CREATED")"

step "Give the application's identity exactly get, wrapKey and unwrapKey (what Foundry needs)"
APP=$(emu_admin add-identity --name foundry-app)
emu_admin set-policy --vault "$VAULT_NAME" --identity "$(jq -r .client_id <<<"$APP")" \
	--keys get,wrapKey,unwrapKey >/dev/null
note "access policy for $(jq -r .client_id <<<"$APP"): get, wrapKey, unwrapKey (no list)"

step "Configure the PKCS#11 module for the vault, as that identity"
emu_write_config "$WORK/config.json" "$APP" "$VAULT"
# Naming the key means the identity needs no "list" permission.
jq --arg k "$KEY" '.vaults[0].keys = [$k]' "$WORK/config.json" >"$WORK/azkv-pkcs11.json"
chmod 600 "$WORK/azkv-pkcs11.json"
export AZKV_PKCS11_CONFIG="$WORK/azkv-pkcs11.json"
jq '.credential.client_secret = "(hidden)"' "$AZKV_PKCS11_CONFIG" | sed 's/^/    /'

step "pkcs11-tool (OpenSC) sees the vault as a token and the CMK as a key pair"
pkcs11-tool --module "$MODULE" --list-token-slots 2>&1 | sed 's/^/    /'
pkcs11-tool --module "$MODULE" --list-objects --type privkey 2>&1 | sed 's/^/    /'

step "Encrypt a file with a fresh DEK, and wrap the DEK with the vault key"
head -c 1048576 /dev/urandom >"$WORK/customer-data.bin"
sha_before=$(sha256sum <"$WORK/customer-data.bin" | cut -d' ' -f1)
"$ENVELOPE" --module "$MODULE" -v seal --key "$KEY" --in "$WORK/customer-data.bin" \
	--out "$WORK/customer-data.azkv"
note "no vault call was needed to seal: wrapping uses the cached public key"

step "Unwrap the DEK through the vault and decrypt the file"
"$ENVELOPE" --module "$MODULE" -v open --in "$WORK/customer-data.azkv" \
	--out "$WORK/customer-data.out"
sha_after=$(sha256sum <"$WORK/customer-data.out" | cut -d' ' -f1)
note "sha256 before: $sha_before"
note "sha256 after:  $sha_after"
[ "$sha_before" = "$sha_after" ]

step "The Foundry side, with azkv-cmk (as kv-admin): check, grant, bind, rotate, status"
emu_admin add-account --name aifoundry-demo --location eastus --identity system >/dev/null
note "a Foundry resource (Cognitive Services account) with a system-assigned identity,"
note "created with Microsoft-managed keys, as lab task 3 does"
emu_write_config "$WORK/admin.json" "$ADMIN" "$VAULT"
jq '. + {arm: {subscription_id: "00000000-0000-0000-0000-000000000000"}}' "$WORK/admin.json" \
	>"$WORK/admin-cmk.json"
chmod 600 "$WORK/admin-cmk.json"
cmk() {
	note "\$ azkv-cmk $*"
	"$CMK" -c "$WORK/admin-cmk.json" -g rg-emulator "$@" 2>&1 | sed 's/^/      /'
	return "${PIPESTATUS[0]}"
}
FOUNDRY="--vault $VAULT_NAME --key $KEY --account aifoundry-demo"
# shellcheck disable=SC2086
cmk check $FOUNDRY || note "(exit $?: the resource's identity has no access yet)"
# shellcheck disable=SC2086
cmk grant $FOUNDRY
# shellcheck disable=SC2086
cmk bind $FOUNDRY
AZKV_CMK_MODULE="$MODULE" cmk rotate --account aifoundry-demo
cmk status --account aifoundry-demo
note "the Foundry resource's own report (the emulator wraps its data key with the bound key):"
emu_admin account-cmk aifoundry-demo | jq '{keySource, keyAccessible, keyVersionInUse}' |
	sed 's/^/      /'

step "What the vault saw"
grep -E "vault\.azure\.net" "$EMU_STATE/emulator.log" | sed "s/^/    /"

printf '\n\033[1mDemo complete:\033[0m the file round-tripped; the DEK was wrapped locally and unwrapped in the vault;\n'
printf 'the CMK private key never left the vault; the Foundry resource is bound to a rotated version of it.\n'
