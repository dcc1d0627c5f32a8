#!/bin/bash
# Rebuilds the seed corpora in tests/fuzz/corpus/ from real responses: the
# recorded Key Vault traffic of tests/recordings/ (bodies and challenges),
# and the emulator's answers, asked for here on loopback (Key Vault, Managed
# HSM keys, Entra ID, IMDS, App Service, ARM). Run by hand when a format
# changes. The raw answers (hundreds: the recordings hold many keys) are
# minimised with libFuzzer's -merge=1 into the inputs that add coverage,
# so the committed corpora stay small; files over 8 KiB are left out.
#   tests/fuzz/make-seeds.sh BUILD_DIR    (a build with --enable-fuzzing)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: make-seeds.sh BUILD_DIR}" && pwd)
final="$top/tests/fuzz/corpus"
export AZKV_TOP_SRCDIR="$top"
# shellcheck source=../emulator/emulator.sh
. "$top/tests/emulator/emulator.sh"

work=$(mktemp -d)
trap 'emu_stop; rm -rf "$work"' EXIT
out="$work/raw"

# seed HARNESS NAME: stdin into the corpus, unless empty or too big.
seed() {
	mkdir -p "$out/$1"
	cat >"$out/$1/$2"
	if [ ! -s "$out/$1/$2" ] || [ "$(stat -c %s "$out/$1/$2")" -gt 8192 ]; then
		rm -f "$out/$1/$2"
	fi
}

# ---- recordings: every body and challenge, sorted by what reads it
/usr/bin/python3 - "$top/tests/recordings" "$out" <<'EOF'
import hashlib, json, os, sys
rec, out = sys.argv[1], sys.argv[2]
def put(harness, text):
    data = text.encode()
    if not data or len(data) > 8192:
        return
    d = os.path.join(out, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rec-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)
for root, _, files in os.walk(rec):
    for name in files:
        if not name.endswith(".json"):
            continue
        with open(os.path.join(root, name)) as f:
            doc = json.load(f)
        for call in doc.get("networkCallRecords", []):
            resp = call.get("Response", {})
            body = resp.get("BODY", resp.get("Body", ""))
            for k, v in resp.items():
                if k.lower() == "www-authenticate":
                    put("fuzz_challenge", v)
                if k.lower() == "retry-after":
                    put("fuzz_challenge", v)
            if not body:
                continue
            try:
                obj = json.loads(body)
            except ValueError:
                continue
            put("fuzz_kv_response", body)
            if isinstance(obj, dict) and isinstance(obj.get("key"), dict):
                put("fuzz_key_bundle", body)
                put("fuzz_jwk", json.dumps(obj["key"]))
EOF

# ---- the emulator's answers
emu_start "$work/emu" >/dev/null
app=$(emu_admin add-identity --name app)
cid=$(jq -r .client_id <<<"$app")
secret=$(jq -r .client_secret <<<"$app")
tenant=$(jq -r .tenant_id <<<"$app")
emu_admin add-vault --name seeds --purge-protection >/dev/null
emu_admin set-policy --vault seeds --identity "$cid" \
	--keys get,list,create,wrapKey,unwrapKey,sign,verify,encrypt,decrypt >/dev/null
emu_admin create-key --vault seeds --name rsa --kty RSA --size 2048 >/dev/null
emu_admin create-key --vault seeds --name ec --kty EC --crv P-256 >/dev/null
emu_admin create-key --vault seeds --name ec521 --kty EC --crv P-521 >/dev/null
emu_admin create-key --vault seeds --name ec256k --kty EC --crv P-256K >/dev/null
c() { curl -sS --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT" "$@"; }
login=https://login.microsoftonline.com
c -d "grant_type=client_credentials&client_id=$cid&client_secret=$secret&scope=https://vault.azure.net/.default" \
	"$login/$tenant/oauth2/v2.0/token" >"$work/token.json"
seed fuzz_token emu-entra-token <"$work/token.json"
c -d "grant_type=client_credentials&client_id=$cid&client_secret=wrong&scope=https://vault.azure.net/.default" \
	"$login/$tenant/oauth2/v2.0/token" | seed fuzz_token emu-entra-invalid-client
c -d "grant_type=client_credentials&client_id=$cid&client_secret=$secret&scope=https://nowhere/.default" \
	"$login/$tenant/oauth2/v2.0/token" | seed fuzz_token emu-entra-invalid-resource
tok=$(jq -r .access_token "$work/token.json")
v=https://seeds.vault.azure.net
c -D "$work/h401" -o /dev/null "$v/keys?api-version=7.4"
sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' "$work/h401" | tr -d '\r' |
	seed fuzz_challenge emu-challenge
c -o - "$v/keys?api-version=7.4" | seed fuzz_kv_response emu-401-body
kv() { c -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' "$@"; }
kv "$v/keys?api-version=7.4&maxresults=2" | seed fuzz_kv_response emu-list-page
kv "$v/keys/rsa/versions?api-version=7.4" | seed fuzz_kv_response emu-versions
for k in rsa ec ec521 ec256k; do
	kv "$v/keys/$k?api-version=7.4" >"$work/$k.json"
	seed fuzz_key_bundle "emu-$k" <"$work/$k.json"
	jq -c .key "$work/$k.json" | seed fuzz_jwk "emu-$k"
done
kv "$v/keys/missing?api-version=7.4" | seed fuzz_kv_response emu-404
kv -d '{"alg":"RSA-OAEP-256","value":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}' \
	"$v/keys/rsa/wrapkey?api-version=7.4" | seed fuzz_kv_response emu-wrapkey
kv -d '{"alg":"ES256","value":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}' \
	"$v/keys/ec/sign?api-version=7.4" | seed fuzz_kv_response emu-sign
kv -d '{"alg":"RSA-OAEP","value":"AAEC"}' \
	"$v/keys/rsa/unwrapkey?api-version=7.4" | seed fuzz_kv_response emu-unwrap-bad
# Managed identity endpoints, served by path on loopback.
mi=$(emu_admin add-identity --name mi --managed)
emu_admin imds-identity --identity "$(jq -r .client_id <<<"$mi")" >/dev/null
loop=https://127.0.0.1:$EMU_PORT
c -H 'Metadata: true' \
	"$loop/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net" |
	seed fuzz_token emu-imds
c "$loop/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net" |
	seed fuzz_token emu-imds-no-metadata
c -H 'Metadata: true' \
	"$loop/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id=00000000-0000-0000-0000-00000000dead" |
	seed fuzz_token emu-imds-unknown-identity
as=$(emu_admin app-service --identity mi)
c -H "X-IDENTITY-HEADER: $(jq -r .header <<<"$as")" \
	"$(jq -r .endpoint <<<"$as")?api-version=2019-08-01&resource=https://vault.azure.net" |
	seed fuzz_token emu-app-service
c -H "X-IDENTITY-HEADER: wrong" \
	"$(jq -r .endpoint <<<"$as")?api-version=2019-08-01&resource=https://vault.azure.net" |
	seed fuzz_token emu-app-service-refused
# What the Azure CLI prints (tests/fakes/az writes these shapes).
now=$(date +%s)
printf '{"accessToken":"%s","expiresOn":"%s","expires_on":%d,"subscription":"%s","tenant":"%s","tokenType":"Bearer"}\n' \
	"$tok" "$(date -d @$((now + 3600)) '+%Y-%m-%d %H:%M:%S.000000')" $((now + 3600)) \
	00000000-0000-0000-0000-000000000003 "$tenant" | seed fuzz_token az-get-access-token
printf '{"accessToken":"%s","expiresOn":"%s","tokenType":"Bearer"}\n' \
	"$tok" "$(date -d @$((now + 3600)) '+%Y-%m-%d %H:%M:%S.000000')" | seed fuzz_token az-before-2.54
printf '{"environmentName":"AzureCloud","id":"00000000-0000-0000-0000-000000000003","isDefault":true,"name":"seeds","state":"Enabled","tenantId":"%s","user":{"name":"app","type":"servicePrincipal"}}\n' \
	"$tenant" | seed fuzz_token az-account-show
# ARM: a vault, a missing one, a list.
arm=https://management.azure.com
atok=$(c -d "grant_type=client_credentials&client_id=$cid&client_secret=$secret&scope=$arm/.default" \
	"$login/$tenant/oauth2/v2.0/token" | jq -r .access_token)
vid=$(emu_admin show-vault --vault seeds | jq -r '.id // .resource_id // empty')
sub=$(cut -d/ -f3 <<<"$vid")
ac() { c -H "Authorization: Bearer $atok" "$@"; }
ac "$arm$vid?api-version=2023-07-01" | seed fuzz_arm_response emu-vault
ac "$arm/subscriptions/$sub/resourceGroups/none/providers/Microsoft.KeyVault/vaults/none?api-version=2023-07-01" |
	seed fuzz_arm_response emu-vault-404
ac "$arm$vid/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01" |
	seed fuzz_arm_response emu-role-assignments
ac "$arm/subscriptions/$sub/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01" |
	seed fuzz_arm_response emu-vault-list
kv "$v/keys/rsa/rotationpolicy?api-version=7.4" | seed fuzz_arm_response emu-rotation-policy
kv -X PUT -d '{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},"action":{"type":"Rotate"}},{"trigger":{"timeBeforeExpiry":"P30D"},"action":{"type":"Notify"}}],"attributes":{"expiryTime":"P1Y"}}' \
	"$v/keys/rsa/rotationpolicy?api-version=7.4" | seed fuzz_arm_response emu-rotation-policy-set
emu_stop

# ---- configurations: one per credential type, every section
T=00000000-0000-0000-0000-000000000001
C=00000000-0000-0000-0000-000000000002
cfg() { seed fuzz_config "$1"; }
cfg config-full <<JSON
{"vaults": [{"url": "https://demo.vault.azure.net", "label": "demo", "keys": ["cmk", "cmk/0123456789abcdef0123456789abcdef"],
  "certificates": {"cmk": "/etc/ssl/certs/ca-certificates.crt"}},
  {"url": "https://hsm1.managedhsm.azure.net"}],
 "cloud": "AzureCloud",
 "credential": {"type": "client_secret", "tenant_id": "$T", "client_id": "$C", "client_secret": "s",
  "authority_host": "https://login.microsoftonline.com"},
 "http": {"ca_file": "/etc/ssl/certs/ca-certificates.crt", "connect_to": "127.0.0.1:8443",
  "connect_timeout_ms": 5000, "timeout_ms": 30000, "max_retries": 3},
 "log": {"level": "warn", "file": "/dev/null"}, "wrap": "vault", "api_version": "7.4",
 "arm": {"endpoint": "https://management.azure.com", "subscription_id": "$C"}}
JSON
cfg config-cert <<JSON
{"vaults": [{"url": "https://demo.vault.azure.cn"}], "cloud": "AzureChinaCloud",
 "credential": {"type": "client_certificate", "tenant_id": "$T", "client_id": "$C",
  "certificate_file": "/nonexistent.pem", "send_certificate_chain": true, "assertion_alg": "PS256"}}
JSON
cfg config-mi <<JSON
{"vaults": [{"url": "https://demo.vault.usgovcloudapi.net/"}],
 "credential": {"type": "managed_identity", "client_id": "$C", "imds_endpoint": "http://169.254.169.254",
  "identity_endpoint": "http://127.0.0.1:40342/metadata/identity/oauth2/token", "arc_key_dir": "/var/opt/azcmagent/tokens"}}
JSON
cfg config-workload <<JSON
{"vaults": [{"url": "https://demo.vault.azure.net"}],
 "credential": {"type": "workload_identity", "tenant_id": "$T", "client_id": "$C", "token_file": "/var/run/secrets/token"}}
JSON
cfg config-cli <<JSON
{"vaults": [{"url": "https://demo.vault.azure.net"}], "credential": {"type": "azure_cli", "tenant_id": "$T", "process_timeout_ms": 10000}}
JSON
cfg config-default <<JSON
{"vaults": [{"url": "http://127.0.0.1:8443"}], "credential": {"type": "default"}, "log": {"level": "trace"}}
JSON
cfg config-environment <<JSON
{"vaults": [{"url": "https://demo.vault.azure.net"}], "credential": {"type": "environment"}, "wrap": "local"}
JSON

# ---- templates (tests/fuzz/fuzz_templates.c): call byte, flags, then
# attributes (type index, kind, value). Index 0 CKA_CLASS, 5 CKA_KEY_TYPE,
# 4 CKA_VALUE, 3 CKA_LABEL, 6 CKA_ID, 17 CKA_VALUE_LEN, 11 CKA_UNWRAP;
# kinds 0 NULL, 1 CK_BBOOL, 2 CK_ULONG, 3 bytes.
tmpl() { printf '%b' "$2" | seed fuzz_templates "$1"; }
tmpl create-label '\000\003\003\003\005cmk-1\006\003\002id\013\001\001'
tmpl create-null-label '\000\001\003\000\010'
tmpl unwrap '\001\003\003\003\003key\013\001\001'
tmpl unwrap-no-type '\001\000\000\002\004\000\000\000\000\000\000\000'
tmpl set-label '\002\002\003\003\003new'
tmpl set-sensitive '\002\000\007\001\001'
tmpl copy '\003\002\003\003\004copy'
tmpl generate '\004\003\021\002\020\000\000\000\000\000\000\000'

# ---- minimised into the committed corpora (inputs already there stay)
for dir in "$out"/*/; do
	name=$(basename "$dir")
	mkdir -p "$final/$name"
	"$build/tests/fuzz/$name" -merge=1 "$final/$name" "$dir" >"$work/merge-$name.log" 2>&1 ||
		{ tail "$work/merge-$name.log"; exit 1; }
	echo "seeds: $name: $(find "$dir" -type f | wc -l) answers, $(find "$final/$name" -type f | wc -l) in the corpus"
done
