#!/bin/bash
# Interoperability: every PKCS#11 client that Debian 12 ships, used as
# shipped, against the module and the emulator. Run by `make check` (which
# sets AZKV_TOP_SRCDIR, AZKV_TOP_BUILDDIR and AZKV_MODULE), or by hand:
#
#   AZKV_TOP_SRCDIR=$PWD AZKV_TOP_BUILDDIR=$PWD/build \
#     AZKV_MODULE=$PWD/build/.libs/azkv-pkcs11.so tests/interop/run.sh
#
# Clients: pkcs11-tool (OpenSC 0.23), p11tool (GnuTLS 3.7), OpenSSL 3 with
# libp11's pkcs11 engine, Java 17 SunPKCS11 (keytool and a small program),
# PyKCS11, p11-kit's proxy module, SoftHSMv2 (key wrapping both ways), and an
# API-misuse program run against the module and against SoftHSMv2.
#
# AZKV_TEST_SANITIZED=1  the module is an ASan build, which no third-party
#                        client can load: everything is skipped
# AZKV_TEST_KEEP=1       keep the work directory
# AZKV_INTEROP_TIMEOUT   seconds each client command may take (default 120)
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE

if [ "${AZKV_TEST_SANITIZED:-0}" = 1 ]; then
	echo "1..0 # SKIP sanitizer build: the clients are not ASan builds and cannot load an ASan module"
	exit 0
fi

# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"

HERE="$AZKV_TOP_SRCDIR/tests/interop"
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
PROXY=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
PY=/usr/bin/python3
TOKEN=interop
HARNESS_NAME=interop
HARNESS_MODULE_LOGS=1
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

# bounded COMMAND...: a client command, killed if it hangs.
bounded() {
	timeout -k 5 "${AZKV_INTEROP_TIMEOUT:-120}" "$@" </dev/null
}

hex() { od -An -tx1 -v "$@" | tr -d ' \n'; }

# ------------------------------------------------------------------ setup
# A module that does not load would fail every test below for one reason.
if ! load_error=$("$PY" -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$AZKV_MODULE" 2>&1); then
	echo "not ok - module-loads"
	# shellcheck disable=SC2001
	sed 's/^/#   /' <<<"$load_error"
	failed=1
	harness_summary
	exit 1
fi

# Anything else that goes wrong before the clients run.
setup_failed() {
	echo "not ok - setup (emulator, vault, keys; see the messages above)"
	failed=1
	harness_summary
	exit 1
}

emu_start "$WORK/emulator" || setup_failed
emu_admin add-vault --name "$TOKEN" >/dev/null || setup_failed
APP=$(emu_admin add-identity --name interop-app) || setup_failed
emu_admin set-policy --vault "$TOKEN" --identity "$(jq -r .client_id <<<"$APP")" \
	--keys get,list,sign,verify,wrapKey,unwrapKey,encrypt,decrypt >/dev/null || setup_failed

# Keys: name -> CKA_ID (the version's 16 bytes, in hex) and public PEM.
declare -A ID
new_key() {
	local name=$1
	shift
	local bundle
	bundle=$(emu_admin "$@") || return 1
	ID[$name]=$(jq -r '.key.kid | split("/") | last' <<<"$bundle")
	emu_admin export-public --vault "$TOKEN" --name "$name" >"$WORK/$name.pem" || return 1
}
new_key rsa2048 create-key --vault "$TOKEN" --name rsa2048 --kty RSA --size 2048 || setup_failed
new_key rsa3072 create-key --vault "$TOKEN" --name rsa3072 --kty RSA --size 3072 || setup_failed
new_key ec256 create-key --vault "$TOKEN" --name ec256 --kty EC --crv P-256 || setup_failed
new_key ec384 create-key --vault "$TOKEN" --name ec384 --kty EC --crv P-384 || setup_failed
# A key pair whose both halves the test holds: in the vault and in SoftHSM.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/local-key.pem" \
	2>/dev/null || setup_failed
new_key local import-key --vault "$TOKEN" --name local --pem "$WORK/local-key.pem" || setup_failed

emu_write_config "$WORK/default.json" "$APP" "https://$TOKEN.vault.azure.net"
# The clients below decrypt and unwrap RSA1_5 (CKM_RSA_PKCS) on purpose, so
# the vault opts in; pkcs11-tool-RSA-PKCS-decrypt-off-by-default checks the
# default with default.json.
jq '.vaults[0].allow_rsa_pkcs1_v15_decrypt = true' "$WORK/default.json" >"$WORK/azkv.json"
chmod 600 "$WORK/azkv.json" "$WORK/default.json"
export AZKV_PKCS11_CONFIG="$WORK/azkv.json"
export AZKV_PKCS11_LOG_FILE="$WORK/module.log"
unset AZKV_PKCS11_LOG_LEVEL

# Data to sign, its digests, and the DigestInfo that CKM_RSA_PKCS signs.
printf 'azkv-pkcs11 interoperability test data\n' >"$WORK/data.txt"
openssl dgst -sha256 -binary "$WORK/data.txt" >"$WORK/data.sha256"
openssl dgst -sha384 -binary "$WORK/data.txt" >"$WORK/data.sha384"
{
	printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'
	cat "$WORK/data.sha256"
} >"$WORK/data.digestinfo"

# ------------------------------------------------------------------ pkcs11-tool (OpenSC)
P11TOOL=(bounded pkcs11-tool --module "$AZKV_MODULE" --token-label "$TOKEN")

pkcs11_tool_slots() {
	"${P11TOOL[@]}" --list-token-slots >"$WORK/slots.txt" || return 1
	cat "$WORK/slots.txt"
	has "$WORK/slots.txt" "token label +: $TOKEN\$" &&
		has "$WORK/slots.txt" "token manufacturer +: azkv-pkcs11" &&
		has "$WORK/slots.txt" "token flags +: .*token initialized"
}
run pkcs11-tool-list-slots pkcs11_tool_slots

# PKCS#11 3.0 interfaces (C_GetInterfaceList), as pkcs11-tool 0.23 lists them.
pkcs11_tool_interfaces() {
	"${P11TOOL[@]}" --list-interfaces >"$WORK/interfaces.txt" || return 1
	cat "$WORK/interfaces.txt"
	[ "$(grep -c "^Interface 'PKCS 11'" "$WORK/interfaces.txt")" = 2 ] &&
		has "$WORK/interfaces.txt" "version: 3\.0" && has "$WORK/interfaces.txt" "version: 2\.40"
}
run pkcs11-tool-list-interfaces pkcs11_tool_interfaces

pkcs11_tool_mechanisms() {
	"${P11TOOL[@]}" --list-mechanisms >"$WORK/mechs.txt" || return 1
	cat "$WORK/mechs.txt"
	has "$WORK/mechs.txt" "^ +RSA-PKCS-OAEP, .*wrap, unwrap" &&
		has "$WORK/mechs.txt" "^ +RSA-PKCS, .*unwrap" &&
		has "$WORK/mechs.txt" "^ +AES-KEY-GEN, .*generate" &&
		has "$WORK/mechs.txt" "^ +AES-GCM, .*encrypt, decrypt"
}
run pkcs11-tool-list-mechanisms pkcs11_tool_mechanisms

# Without allow_rsa_pkcs1_v15_decrypt, RSA-PKCS is listed for encrypt, wrap,
# sign and verify, not for decrypt or unwrap.
pkcs11_tool_rsa_pkcs_decrypt_off() {
	AZKV_PKCS11_CONFIG="$WORK/default.json" "${P11TOOL[@]}" --list-mechanisms \
		>"$WORK/mechs-default.txt" || return 1
	grep "^ *RSA-PKCS," "$WORK/mechs-default.txt"
	has "$WORK/mechs-default.txt" "^ +RSA-PKCS, .*encrypt.*sign.*verify.*wrap" &&
		! grep -E "^ +RSA-PKCS, .*(decrypt|unwrap)" "$WORK/mechs-default.txt" &&
		has "$WORK/mechs-default.txt" "^ +RSA-PKCS-OAEP, .*decrypt.*unwrap"
}
run pkcs11-tool-RSA-PKCS-decrypt-off-by-default pkcs11_tool_rsa_pkcs_decrypt_off

# What pkcs11-tool, p11tool and SunPKCS11 look for before they sign: the
# signing mechanisms in the list, with their sign/verify flags.
pkcs11_tool_signing_mechanisms() {
	"${P11TOOL[@]}" --list-mechanisms >"$WORK/mechs-sign.txt" || return 1
	cat "$WORK/mechs-sign.txt"
	local m
	for m in RSA-PKCS SHA256-RSA-PKCS RSA-PKCS-PSS SHA256-RSA-PKCS-PSS ECDSA ECDSA-SHA256; do
		has "$WORK/mechs-sign.txt" "^ +$m, .*sign.*verify" || return 1
	done
	has "$WORK/mechs-sign.txt" "^ +RSA-PKCS-OAEP, .*decrypt"
}
run pkcs11-tool-list-mechanisms-for-signing pkcs11_tool_signing_mechanisms

pkcs11_tool_objects() {
	"${P11TOOL[@]}" --list-objects >"$WORK/objects.txt" || return 1
	cat "$WORK/objects.txt"
	has "$WORK/objects.txt" "Public Key Object; RSA 2048 bits" &&
		has "$WORK/objects.txt" "Public Key Object; RSA 3072 bits" &&
		has "$WORK/objects.txt" "Public Key Object; EC  EC_POINT 256 bits" &&
		has "$WORK/objects.txt" "Public Key Object; EC  EC_POINT 384 bits" &&
		has "$WORK/objects.txt" "EC_PARAMS: +06082a8648ce3d030107" &&
		has "$WORK/objects.txt" "EC_PARAMS: +06052b81040022" || return 1
	local k
	for k in rsa2048 rsa3072 ec256 ec384 local; do
		[ "$(grep -c "^  ID: *${ID[$k]}\$" "$WORK/objects.txt")" = 2 ] || {
			echo "$k: want a public and a private object with ID ${ID[$k]}"
			return 1
		}
	done
	[ "$(grep -c "^Private Key Object" "$WORK/objects.txt")" = 5 ] &&
		has "$WORK/objects.txt" "Access: +sensitive, always sensitive, never extractable"
}
run pkcs11-tool-list-objects pkcs11_tool_objects

# p11sign NAME KEY MECH INPUT [OPTIONS...]: pkcs11-tool signs INPUT with the
# vault key, and verifies the signature itself (C_Verify, done locally).
p11sign() {
	local name=$1 key=$2 mech=$3 in=$4
	shift 4
	"${P11TOOL[@]}" --sign --id "${ID[$key]}" -m "$mech" -i "$in" -o "$WORK/$name.sig" "$@" ||
		return 1
	"${P11TOOL[@]}" --verify --id "${ID[$key]}" -m "$mech" -i "$in" \
		--signature-file "$WORK/$name.sig" "$@" >"$WORK/$name.verify" || return 1
	cat "$WORK/$name.verify"
	has "$WORK/$name.verify" "^Signature is valid"
}

# ... and OpenSSL, knowing only the exported public key, agrees.
sign_rsa_pkcs() {
	p11sign sign-rsa-pkcs rsa2048 RSA-PKCS "$WORK/data.digestinfo" &&
		openssl pkeyutl -verify -pubin -inkey "$WORK/rsa2048.pem" -in "$WORK/data.digestinfo" \
			-sigfile "$WORK/sign-rsa-pkcs.sig"
}
run pkcs11-tool-sign-verify-RSA-PKCS sign_rsa_pkcs

sign_sha256_rsa_pkcs() {
	local k
	for k in rsa2048 rsa3072; do
		p11sign "sign-sha256-rsa-$k" "$k" SHA256-RSA-PKCS "$WORK/data.txt" &&
			openssl dgst -sha256 -verify "$WORK/$k.pem" \
				-signature "$WORK/sign-sha256-rsa-$k.sig" "$WORK/data.txt" || return 1
	done
}
run pkcs11-tool-sign-verify-SHA256-RSA-PKCS sign_sha256_rsa_pkcs

sign_rsa_pss() {
	p11sign sign-pss rsa2048 RSA-PKCS-PSS "$WORK/data.sha256" \
		--hash-algorithm SHA256 --mgf MGF1-SHA256 &&
		openssl pkeyutl -verify -pubin -inkey "$WORK/rsa2048.pem" -in "$WORK/data.sha256" \
			-sigfile "$WORK/sign-pss.sig" -pkeyopt rsa_padding_mode:pss \
			-pkeyopt digest:sha256 -pkeyopt rsa_pss_saltlen:32 &&
		p11sign sign-sha256-pss rsa3072 SHA256-RSA-PKCS-PSS "$WORK/data.txt" &&
		openssl dgst -sha256 -verify "$WORK/rsa3072.pem" -sigopt rsa_padding_mode:pss \
			-sigopt rsa_pss_saltlen:32 -signature "$WORK/sign-sha256-pss.sig" "$WORK/data.txt"
}
run pkcs11-tool-sign-verify-RSA-PKCS-PSS sign_rsa_pss

# ECDSA signatures leave pkcs11-tool as DER (-f openssl) for OpenSSL.
sign_ecdsa() {
	p11sign sign-ecdsa-256 ec256 ECDSA "$WORK/data.sha256" -f openssl &&
		openssl pkeyutl -verify -pubin -inkey "$WORK/ec256.pem" -in "$WORK/data.sha256" \
			-sigfile "$WORK/sign-ecdsa-256.sig" &&
		p11sign sign-ecdsa-384 ec384 ECDSA "$WORK/data.sha384" -f openssl &&
		openssl pkeyutl -verify -pubin -inkey "$WORK/ec384.pem" -in "$WORK/data.sha384" \
			-sigfile "$WORK/sign-ecdsa-384.sig"
}
run pkcs11-tool-sign-verify-ECDSA sign_ecdsa

sign_ecdsa_sha256() {
	p11sign sign-ecdsa-sha256 ec256 ECDSA-SHA256 "$WORK/data.txt" -f openssl &&
		openssl dgst -sha256 -verify "$WORK/ec256.pem" \
			-signature "$WORK/sign-ecdsa-sha256.sig" "$WORK/data.txt"
}
run pkcs11-tool-sign-verify-ECDSA-SHA256 sign_ecdsa_sha256

# p11decrypt KEY MECH PKEYOPTS -- P11OPTS: OpenSSL encrypts a data key with the
# exported public key; pkcs11-tool decrypts it with the vault key.
p11decrypt() {
	local key=$1 mech=$2
	shift 2
	local -a enc=()
	while [ "$1" != -- ]; do
		enc+=(-pkeyopt "$1")
		shift
	done
	shift
	head -c 32 /dev/urandom >"$WORK/dek.$key.$mech"
	openssl pkeyutl -encrypt -pubin -inkey "$WORK/$key.pem" -in "$WORK/dek.$key.$mech" \
		-out "$WORK/dek.$key.$mech.enc" "${enc[@]}" || return 1
	"${P11TOOL[@]}" --decrypt --id "${ID[$key]}" -m "$mech" -i "$WORK/dek.$key.$mech.enc" \
		-o "$WORK/dek.$key.$mech.dec" "$@" || return 1
	cmp "$WORK/dek.$key.$mech" "$WORK/dek.$key.$mech.dec" && echo "$key $mech: decrypted"
}
decrypt_oaep() {
	p11decrypt rsa2048 RSA-PKCS-OAEP rsa_padding_mode:oaep rsa_oaep_md:sha256 rsa_mgf1_md:sha256 \
		-- --hash-algorithm SHA256 --mgf MGF1-SHA256 &&
		p11decrypt rsa3072 RSA-PKCS-OAEP rsa_padding_mode:oaep rsa_oaep_md:sha1 rsa_mgf1_md:sha1 \
			-- --hash-algorithm SHA-1 --mgf MGF1-SHA1
}
run pkcs11-tool-decrypt-RSA-PKCS-OAEP decrypt_oaep

decrypt_pkcs1() {
	p11decrypt rsa2048 RSA-PKCS rsa_padding_mode:pkcs1 --
}
run pkcs11-tool-decrypt-RSA-PKCS decrypt_pkcs1

# pkcs11-tool 0.23's --unwrap always asks for a token key (CKA_TOKEN=TRUE in
# its template) and --wrap wraps a secret key that must already be on the
# token when pkcs11-tool starts. The module keeps secret keys in sessions
# only (its keys live in the vault), so --unwrap must be refused cleanly with
# the documented code and a log line that says why, and --wrap has nothing
# to wrap. Wrapping is exercised through PyKCS11 and SoftHSMv2 below.
pkcs11_tool_unwrap() {
	head -c 32 /dev/urandom >"$WORK/dek.unwrap"
	openssl pkeyutl -encrypt -pubin -inkey "$WORK/rsa2048.pem" -in "$WORK/dek.unwrap" \
		-out "$WORK/dek.unwrap.enc" -pkeyopt rsa_padding_mode:pkcs1 || return 1
	if AZKV_PKCS11_LOG_LEVEL=trace "${P11TOOL[@]}" --unwrap --id "${ID[rsa2048]}" -m RSA-PKCS \
		-i "$WORK/dek.unwrap.enc" --key-type AES:32 --extractable >"$WORK/unwrap.txt" 2>&1; then
		cat "$WORK/unwrap.txt"
		echo "pkcs11-tool created a token key; the module has none to give"
		return 1
	fi
	cat "$WORK/unwrap.txt"
	has "$WORK/unwrap.txt" "C_UnwrapKey failed: rv = CKR_ATTRIBUTE_VALUE_INVALID" &&
		has "$AZKV_PKCS11_LOG_FILE" "CKA_TOKEN=TRUE: only session keys can be created"
}
run pkcs11-tool-unwrap-token-key-refused-as-documented pkcs11_tool_unwrap
# A template the module will refuse costs no vault transaction (the quota
# is the user's): the refusal comes before unwrapkey.
pkcs11_tool_unwrap_no_vault_call() {
	local log="$WORK/pkcs11-tool-unwrap-token-key-refused-as-documented.module.log"
	has "$log" "CKA_TOKEN=TRUE" || return 1
	if grep -q "POST .*/unwrapkey" "$log"; then
		echo "the vault's unwrapkey was called for an unwrap the module then refused:"
		grep "unwrapkey\|CKA_TOKEN" "$log"
		return 1
	fi
}
run pkcs11-tool-unwrap-refused-before-any-vault-call pkcs11_tool_unwrap_no_vault_call
skip pkcs11-tool-wrap "pkcs11-tool 0.23 --wrap needs a secret key already on the token; the module's secret keys are session keys"

# ------------------------------------------------------------------ p11tool (GnuTLS)
export GNUTLS_PIN=any
P11T=(bounded p11tool --provider "$AZKV_MODULE")
URI="pkcs11:token=$TOKEN"

p11tool_list_all() {
	"${P11T[@]}" --list-all "$URI" >"$WORK/p11tool-all.txt" || return 1
	cat "$WORK/p11tool-all.txt"
	has "$WORK/p11tool-all.txt" "Type: Public key \(RSA-2048\)" &&
		has "$WORK/p11tool-all.txt" "Type: Private key \(RSA-3072\)" &&
		has "$WORK/p11tool-all.txt" "Type: Private key \(EC/ECDSA-SECP256R1\)" &&
		has "$WORK/p11tool-all.txt" "Type: Public key \(EC/ECDSA-SECP384R1\)" &&
		has "$WORK/p11tool-all.txt" "URL: pkcs11:.*token=$TOKEN;id=.*;object=rsa2048;type=private" &&
		[ "$(grep -c "^Object " "$WORK/p11tool-all.txt")" = 10 ]
}
run p11tool-list-all p11tool_list_all

p11tool_test_sign() {
	local k
	for k in rsa2048 ec256; do
		"${P11T[@]}" --test-sign "$URI;object=$k" >"$WORK/p11tool-sign-$k.txt" 2>&1
		local rc=$?
		cat "$WORK/p11tool-sign-$k.txt"
		[ "$rc" = 0 ] && has "$WORK/p11tool-sign-$k.txt" "Verifying against public key in the token\.\.\. ok" ||
			return 1
	done
}
run p11tool-test-sign-RSA-and-EC p11tool_test_sign

# ------------------------------------------------------------------ OpenSSL 3 + libp11 engine
cat >"$WORK/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $AZKV_MODULE
PIN = any
init = 0
EOF
ENG=(bounded env OPENSSL_CONF="$WORK/openssl.cnf" openssl)
key_uri() { echo "pkcs11:token=$TOKEN;object=$1;type=private"; }

openssl_engine_sign() {
	# RSA PKCS#1 v1.5 and PSS (libp11: CKM_RSA_PKCS, CKM_RSA_PKCS_PSS), ECDSA (CKM_ECDSA).
	"${ENG[@]}" pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$(key_uri rsa2048)" \
		-in "$WORK/data.sha256" -out "$WORK/eng-rsa.sig" -pkeyopt digest:sha256 || return 1
	openssl pkeyutl -verify -pubin -inkey "$WORK/rsa2048.pem" -in "$WORK/data.sha256" \
		-sigfile "$WORK/eng-rsa.sig" -pkeyopt digest:sha256 || return 1
	"${ENG[@]}" pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$(key_uri rsa3072)" \
		-in "$WORK/data.sha256" -out "$WORK/eng-pss.sig" -pkeyopt digest:sha256 \
		-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 || return 1
	openssl pkeyutl -verify -pubin -inkey "$WORK/rsa3072.pem" -in "$WORK/data.sha256" \
		-sigfile "$WORK/eng-pss.sig" -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
		-pkeyopt rsa_pss_saltlen:32 || return 1
	"${ENG[@]}" pkeyutl -engine pkcs11 -keyform engine -sign -inkey "$(key_uri ec256)" \
		-in "$WORK/data.sha256" -out "$WORK/eng-ec.sig" || return 1
	openssl pkeyutl -verify -pubin -inkey "$WORK/ec256.pem" -in "$WORK/data.sha256" \
		-sigfile "$WORK/eng-ec.sig"
}
run openssl-engine-pkeyutl-sign openssl_engine_sign

openssl_engine_decrypt() {
	# RSA-OAEP-256 and RSA1_5 (libp11: CKM_RSA_PKCS_OAEP, CKM_RSA_PKCS).
	local mode
	for mode in oaep pkcs1; do
		local -a opts=(-pkeyopt "rsa_padding_mode:$mode")
		[ "$mode" = oaep ] && opts+=(-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256)
		head -c 32 /dev/urandom >"$WORK/eng-dek.$mode"
		openssl pkeyutl -encrypt -pubin -inkey "$WORK/rsa2048.pem" -in "$WORK/eng-dek.$mode" \
			-out "$WORK/eng-dek.$mode.enc" "${opts[@]}" || return 1
		"${ENG[@]}" pkeyutl -engine pkcs11 -keyform engine -decrypt -inkey "$(key_uri rsa2048)" \
			-in "$WORK/eng-dek.$mode.enc" -out "$WORK/eng-dek.$mode.dec" "${opts[@]}" || return 1
		cmp "$WORK/eng-dek.$mode" "$WORK/eng-dek.$mode.dec" || return 1
		echo "$mode: decrypted"
	done
}
run openssl-engine-pkeyutl-decrypt openssl_engine_decrypt

openssl_engine_req_x509() {
	local k
	for k in rsa2048 ec256; do
		"${ENG[@]}" req -new -x509 -engine pkcs11 -keyform engine -key "$(key_uri $k)" \
			-sha256 -days 2 -subj "/CN=azkv-pkcs11 $k" -out "$WORK/$k.crt" || return 1
		openssl x509 -in "$WORK/$k.crt" -noout -subject -issuer
		openssl verify -CAfile "$WORK/$k.crt" "$WORK/$k.crt" || return 1
		# The certificate carries the vault key.
		[ "$(openssl x509 -in "$WORK/$k.crt" -noout -pubkey | openssl pkey -pubin -outform DER | hex)" = \
			"$(openssl pkey -pubin -in "$WORK/$k.pem" -outform DER | hex)" ] || {
			echo "$k: the certificate's public key is not the vault key"
			return 1
		}
	done
}
run openssl-engine-req-x509-self-signed-verifies openssl_engine_req_x509

# ------------------------------------------------------------------ Java 17 SunPKCS11
cat >"$WORK/sunpkcs11.cfg" <<EOF
name = azkv
library = $AZKV_MODULE
slotListIndex = 0
EOF

# SunPKCS11's KeyStore shows a private key only with a matching certificate
# object; the module's tokens have none, so keytool lists no entry. What it
# must do: load the token and see every private key (pkcs11keystore debug).
java_keytool_list() {
	bounded keytool -J-Djava.security.debug=pkcs11keystore -list -storetype PKCS11 \
		-providerClass sun.security.pkcs11.SunPKCS11 -providerArg "$WORK/sunpkcs11.cfg" \
		-storepass any >"$WORK/keytool.txt" 2>&1
	local rc=$?
	cat "$WORK/keytool.txt"
	[ "$rc" = 0 ] && has "$WORK/keytool.txt" "Keystore provider: SunPKCS11-azkv" &&
		has "$WORK/keytool.txt" "Your keystore contains 0 entries" || return 1
	local k
	for k in rsa2048 rsa3072 ec256 ec384 local; do
		has "$WORK/keytool.txt" \
			"did not find match for private key with CKA_ID \[0x${ID[$k]}\] \(ignoring entry\)" ||
			return 1
	done
}
run java-keytool-list-sees-every-key-no-certificate-entries java_keytool_list

JAVA_EXPORTS=(--add-modules=jdk.crypto.cryptoki
	--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED)
java_compile() {
	mkdir -p "$WORK/java"
	bounded javac "${JAVA_EXPORTS[@]}" -d "$WORK/java" "$HERE/java/AzkvSign.java"
}
java_sign() {
	[ -s "$WORK/java/AzkvSign.class" ] || java_compile || return 1
	bounded java "${JAVA_EXPORTS[@]}" --add-opens=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED \
		-cp "$WORK/java" AzkvSign "$WORK/sunpkcs11.cfg" "$@"
}
run java-compile-signing-program java_compile
run java-sunpkcs11-SHA256withRSA java_sign "rsa2048:SHA256withRSA:$WORK/rsa2048.pem" \
	"rsa3072:SHA256withRSA:$WORK/rsa3072.pem"
run java-sunpkcs11-SHA256withECDSA java_sign "ec256:SHA256withECDSA:$WORK/ec256.pem" \
	"ec384:SHA384withECDSA:$WORK/ec384.pem"

# With a certificate named in the module's configuration, the keystore lists
# the key as a PrivateKeyEntry and Java signs with KeyStore.getKey alone.
java_keystore_with_certificate() {
	openssl req -new -x509 -key "$WORK/local-key.pem" -subj /CN=local -days 30 \
		-out "$WORK/local.crt" 2>/dev/null || return 1
	jq --arg crt "$WORK/local.crt" '.vaults[0].certificates = {local: $crt}' \
		"$WORK/azkv.json" >"$WORK/azkv-certs.json"
	chmod 600 "$WORK/azkv-certs.json"
	AZKV_PKCS11_CONFIG="$WORK/azkv-certs.json" bounded keytool -list -storetype PKCS11 \
		-providerClass sun.security.pkcs11.SunPKCS11 -providerArg "$WORK/sunpkcs11.cfg" \
		-storepass any >"$WORK/keytool-certs.txt" 2>&1
	cat "$WORK/keytool-certs.txt"
	has "$WORK/keytool-certs.txt" "Your keystore contains 1 entry" &&
		has "$WORK/keytool-certs.txt" "^local, PrivateKeyEntry" || return 1
	AZKV_PKCS11_CONFIG="$WORK/azkv-certs.json" java_sign "local:SHA256withRSA:$WORK/local.pem" \
		>"$WORK/java-certs.txt" 2>&1
	local rc=$?
	cat "$WORK/java-certs.txt"
	[ "$rc" = 0 ] && has "$WORK/java-certs.txt" "with the KeyStore entry"
}
run java-keystore-lists-key-with-its-certificate java_keystore_with_certificate

# ------------------------------------------------------------------ PyKCS11
pykcs11_envelope() {
	bounded "$PY" "$HERE/envelope.py" "$AZKV_MODULE" "$TOKEN" rsa2048 sha256 &&
		bounded "$PY" "$HERE/envelope.py" "$AZKV_MODULE" "$TOKEN" rsa3072 sha1
}
run pykcs11-envelope-round-trip pykcs11_envelope

# ------------------------------------------------------------------ p11-kit proxy
# The module registered in a user's p11-kit configuration and reached
# through p11-kit-proxy.so. p11-kit ignores user configuration when run as
# root, so the client runs as nobody when the suite runs as root; the
# system's other modules are turned off for the proxy to keep it to ours.
as_user=()
setup_p11kit_user() {
	local home="$WORK/home"
	mkdir -p "$home/.config/pkcs11/modules"
	sed "s|^module:.*|module: $AZKV_MODULE|" "$AZKV_TOP_BUILDDIR/pkcs11/azkv-pkcs11.module" \
		>"$home/.config/pkcs11/modules/azkv-pkcs11.module"
	local m
	for m in /usr/share/p11-kit/modules/*.module; do
		printf 'disable-in: p11-kit-proxy\n' >"$home/.config/pkcs11/modules/$(basename "$m")"
	done
	cp "$WORK/azkv.json" "$WORK/azkv-user.json"
	: >"$WORK/p11kit.module.log"
	if [ "$(id -u)" -eq 0 ]; then
		chmod -R a+rX "$WORK"
		chmod 600 "$WORK/azkv.json"
		chown 65534:65534 "$WORK/azkv-user.json" "$WORK/p11kit.module.log"
		chmod 600 "$WORK/azkv-user.json"
		as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
}
proxy_tool() {
	bounded "${as_user[@]}" env HOME="$WORK/home" AZKV_PKCS11_CONFIG="$WORK/azkv-user.json" \
		AZKV_PKCS11_LOG_FILE="$WORK/p11kit.module.log" \
		pkcs11-tool --module "$PROXY" --token-label "$TOKEN" "$@"
}
p11kit_proxy_lists() {
	setup_p11kit_user
	proxy_tool --list-token-slots >"$WORK/proxy-slots.txt" || return 1
	cat "$WORK/proxy-slots.txt"
	[ "$(grep -c "token label" "$WORK/proxy-slots.txt")" = 1 ] &&
		has "$WORK/proxy-slots.txt" "token manufacturer +: azkv-pkcs11" || return 1
	proxy_tool --list-objects >"$WORK/proxy-objects.txt" || return 1
	has "$WORK/proxy-objects.txt" "Public Key Object; RSA 2048 bits" &&
		[ "$(grep -c "^Private Key Object" "$WORK/proxy-objects.txt")" = 5 ] || return 1
	# (written by this shell: nobody cannot write in the work directory)
	proxy_tool --read-object --type pubkey --id "${ID[rsa2048]}" >"$WORK/proxy-pub.der" || return 1
	[ "$(hex "$WORK/proxy-pub.der")" = \
		"$(openssl pkey -pubin -in "$WORK/rsa2048.pem" -outform DER | hex)" ]
}
run p11-kit-proxy-lists-slots-and-objects p11kit_proxy_lists

p11kit_proxy_sign() {
	[ -d "$WORK/home" ] || setup_p11kit_user
	proxy_tool --sign --id "${ID[rsa2048]}" -m SHA256-RSA-PKCS -i "$WORK/data.txt" \
		>"$WORK/proxy.sig" || return 1
	openssl dgst -sha256 -verify "$WORK/rsa2048.pem" -signature "$WORK/proxy.sig" "$WORK/data.txt"
}
run p11-kit-proxy-sign-SHA256-RSA-PKCS p11kit_proxy_sign

# ------------------------------------------------------------------ SoftHSMv2
setup_softhsm() {
	mkdir -p "$WORK/softhsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$WORK/softhsm/tokens" >"$WORK/softhsm/softhsm2.conf"
	export SOFTHSM2_CONF="$WORK/softhsm/softhsm2.conf"
	softhsm2-util --init-token --free --label "$TOKEN" --pin 1234 --so-pin 5678 &&
		softhsm2-util --import "$WORK/local-key.pem" --token "$TOKEN" --label local --id 01 --pin 1234
}
softhsm_wrap_both_ways() {
	bounded "$PY" "$HERE/softhsm_wrap.py" "$AZKV_MODULE" "$TOKEN" "$SOFTHSM" "$TOKEN" 1234 local
}
if [ -e "$SOFTHSM" ]; then
	run softhsm-setup-token-with-local-key-pair setup_softhsm
	run softhsm-wrap-unwrap-byte-for-byte-both-ways softhsm_wrap_both_ways
else
	skip softhsm "SoftHSMv2 is not installed (scripts/install-deps.sh installs softhsm2)"
fi

# ------------------------------------------------------------------ digests against SoftHSMv2
# xcheck_digest loads both modules and makes the same digest calls on each
# (single- and multi-part, length queries, C_DigestKey of one AES key
# value, the error paths); every answer must be the one expected and
# SoftHSMv2's, unless the program documents the difference (or SoftHSMv2
# lacks the mechanism: SHA-3).
xcheck_digest_build() {
	# shellcheck disable=SC2046
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Werror \
		-I"$AZKV_TOP_SRCDIR/include" -I"$AZKV_TOP_SRCDIR/tests/lib" $(pkg-config --cflags p11-kit-1) \
		-o "$WORK/xcheck_digest" "$HERE/xcheck_digest.c" "$AZKV_TOP_SRCDIR/tests/lib/p11_load.c" \
		-ldl -lcrypto
}
xcheck_digest_run() {
	bounded "$WORK/xcheck_digest" "$AZKV_MODULE" "$SOFTHSM" "$TOKEN" 1234 local || return 1
	# Each refusal of the module says why in its log.
	has "$AZKV_PKCS11_LOG_FILE" "C_DigestKey: key [0-9]+ \('local'\) is a vault key" &&
		has "$AZKV_PKCS11_LOG_FILE" "C_Digest: a multi-part operation is under way; it ends with C_DigestFinal"
}
run xcheck-digest-program-builds xcheck_digest_build
if [ -e "$SOFTHSM" ] && [ -n "${SOFTHSM2_CONF:-}" ]; then
	run xcheck-digest-azkv-agrees-with-softhsm xcheck_digest_run
else
	skip xcheck-digest-azkv-agrees-with-softhsm "SoftHSMv2 token not set up"
fi

# ------------------------------------------------------------------ PKCS#11 API misuse
misuse_build() {
	# shellcheck disable=SC2046
	cc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror $(pkg-config --cflags p11-kit-1) \
		-o "$WORK/misuse" "$HERE/misuse.c" -ldl
}
misuse_azkv() {
	bounded "$WORK/misuse" "$AZKV_MODULE" "$TOKEN" any rsa2048 >"$WORK/misuse.azkv"
	local rc=$?
	cat "$WORK/misuse.azkv"
	[ "$rc" = 0 ]
}
misuse_softhsm() {
	# SoftHSMv2's own departures from the spec are reported, not failed.
	bounded "$WORK/misuse" "$SOFTHSM" "$TOKEN" 1234 local >"$WORK/misuse.softhsm"
	local rc=$?
	cat "$WORK/misuse.softhsm"
	[ "$rc" -lt 100 ] && grep -q "check(s) failed" "$WORK/misuse.softhsm"
}
# The cross-check programs (misuse.c, xcheck_data.c, xcheck_aes.c) print one
# line per call, "[ok - |not ok - ]ID = RESULT [(spec: ...)] [# NOTE]", run
# on each module. Same ID, same RESULT, unless SoftHSM's line is "not ok"
# (it departs from the spec there), or the module's line has a note saying
# why they may differ ("may differ from SoftHSM: ..."); a line only the
# module prints needs such a note or "azkv only: ..."; a line only SoftHSM
# prints fails. Anything else fails the case.
#   compare_with_softhsm NAME: $WORK/NAME.softhsm against $WORK/NAME.azkv
compare_with_softhsm() {
	[ -s "$WORK/$1.azkv" ] && [ -s "$WORK/$1.softhsm" ] || return 1
	awk '
		function parse(line) {
			if (line !~ / = /) return 0
			ok = (line !~ /^not ok - /); sub(/^(not )?ok - /, "", line)
			note = ""
			if (match(line, / # .*$/)) { note = substr(line, RSTART + 3); line = substr(line, 1, RSTART - 1) }
			sub(/ \(spec: [^)]*\)$/, "", line)
			split(line, p, " = "); id = p[1]; rest = substr(line, length(id) + 4)
			return 1
		}
		FNR == NR { if (parse($0)) { sh[id] = rest; shok[id] = ok }; next }
		parse($0) {
			seen[id] = 1
			if (!(id in sh)) {
				if (note ~ /^(azkv only|may differ from SoftHSM)/) { only++; next }
				print "only in azkv, without a note: " $0; bad++; next
			}
			if (sh[id] == rest) { same++; next }
			if (!shok[id]) { print "differs, SoftHSM departs from the spec: " id ": azkv " rest ", SoftHSM " sh[id]; next }
			if (note ~ /^may differ from SoftHSM/) { print "differs, documented: " id ": azkv " rest ", SoftHSM " sh[id] " (" note ")"; next }
			print "DIFFERS: " id ":\n  azkv    " rest "\n  SoftHSM " sh[id]; bad++
		}
		END {
			for (id in sh) if (!(id in seen)) { print "only in SoftHSM: " id; bad++ }
			print same + 0 " answered alike, " only + 0 " only the module has"
			exit bad > 0
		}
	' "$WORK/$1.softhsm" "$WORK/$1.azkv"
}
run misuse-program-builds misuse_build
run misuse-azkv-answers-as-the-spec-requires misuse_azkv
if [ -e "$SOFTHSM" ] && [ -n "${SOFTHSM2_CONF:-}" ]; then
	run misuse-softhsm-runs-the-same-calls misuse_softhsm
	run misuse-azkv-agrees-with-softhsm compare_with_softhsm misuse
else
	skip misuse-softhsm "SoftHSMv2 token not set up"
fi

# ------------------------------------------------------------------ pkcs11-tool --test, key creation (issue 18)
# pkcs11-tool --test --login runs its random, digest and signature tests.
# Its third signature test signs a SHA-1 DigestInfo with CKM_RSA_PKCS, which
# Key Vault cannot sign (RS256/384/512 only), and pkcs11-tool 0.23 aborts on
# any C_Sign error there (p11_fatal). The module answers as the spec says
# (C_SignInit accepts CKM_RSA_PKCS, C_Sign refuses the data:
# CKR_DATA_INVALID), so this records where it stops and why.
pkcs11_tool_test() {
	local out="$WORK/pkcs11-tool-test.txt"
	bounded pkcs11-tool --module "$AZKV_MODULE" --token-label "$TOKEN" --test --login --pin any \
		>"$out" 2>&1
	echo "pkcs11-tool --test exited with $?:"
	cat "$out"
	has "$out" "C_SeedRandom\(\) and C_GenerateRandom\(\):" && has "$out" "seems to be OK" &&
		has "$out" "^Signatures \(currently only for RSA\)" &&
		has "$out" "testing key [0-9]+ \([a-z0-9]+\) *$" || return 1
	if grep -q "^No errors" "$out"; then
		echo "# pkcs11-tool --test: no errors"
		return 0
	fi
	echo "# pkcs11-tool --test stops at its CKM_RSA_PKCS signature of a SHA-1 DigestInfo:"
	echo "# Key Vault signs PKCS#1 v1.5 over SHA-256/384/512 only, and pkcs11-tool aborts"
	echo "# on the refusal (CKR_DATA_INVALID), so its verify, unwrap and decrypt tests do not run."
	has "$out" "C_Sign failed: rv = CKR_DATA_INVALID" &&
		has "$AZKV_PKCS11_LOG_FILE" "the DigestInfo is of SHA1; Key Vault signs PKCS#1 v1.5 DigestInfos of SHA-256, SHA-384 or SHA-512 only"
}
run pkcs11-tool-test-login-stops-where-the-vault-cannot-sign pkcs11_tool_test

# Key creation ("allow_key_creation": true) with an identity that may
# create: pkcs11-tool --keypairgen and p11tool --generate-privkey make RSA
# and EC keys; each is then in the emulated vault (its public key, from the
# emulator's admin API, is the one the tool saw) and signs.
setup_keygen() {
	local creator
	creator=$(emu_admin add-identity --name interop-keygen) &&
		emu_admin set-policy --vault "$TOKEN" --identity "$(jq -r .client_id <<<"$creator")" \
			--keys get,list,create,sign,verify >/dev/null || return 1
	emu_write_config "$WORK/keygen-base.json" "$creator" "https://$TOKEN.vault.azure.net"
	jq '.vaults[0].allow_key_creation = true' "$WORK/keygen-base.json" >"$WORK/keygen.json"
	chmod 600 "$WORK/keygen.json" "$WORK/keygen-base.json"
}
# in_vault NAME PUB_DER: the vault has key NAME, whose public key is PUB_DER;
# its version (the objects' CKA_ID) goes in ID[NAME].
in_vault() {
	local bundle
	bundle=$(emu_api GET "/vaults/$TOKEN/keys/$1/public") &&
		jq -r .pem <<<"$bundle" >"$WORK/$1.vault.pem" &&
		ID[$1]=$(jq -r .version <<<"$bundle") || return 1
	[ "$(openssl pkey -pubin -in "$WORK/$1.vault.pem" -outform DER | hex)" = "$(hex "$2")" ] || {
		echo "$1: the vault's public key is not the one the tool got"
		return 1
	}
	echo "$1: in the vault"
}
# signs_as NAME MECH: pkcs11-tool signs with key NAME (found by ID: its
# --sign ignores --label); openssl verifies with the vault's public key.
signs_as() {
	local name=$1 mech=$2 fmt=()
	[ "${mech#ECDSA}" != "$mech" ] && fmt=(-f openssl)
	AZKV_PKCS11_CONFIG="$WORK/keygen.json" "${P11TOOL[@]}" --login --pin any --sign \
		--id "${ID[$name]}" -m "$mech" -i "$WORK/data.txt" -o "$WORK/$name.sig" "${fmt[@]}" &&
		openssl dgst -sha256 -verify "$WORK/$name.vault.pem" -signature "$WORK/$name.sig" \
			"$WORK/data.txt"
}
pkcs11_tool_keypairgen() {
	setup_keygen || return 1
	local spec name
	for spec in rsa:2048/tool-rsa EC:prime256v1/tool-ec; do
		name=${spec#*/}
		AZKV_PKCS11_CONFIG="$WORK/keygen.json" "${P11TOOL[@]}" --login --pin any --keypairgen \
			--key-type "${spec%/*}" --label "$name" >"$WORK/$name.gen.txt" 2>&1
		local rc=$?
		cat "$WORK/$name.gen.txt"
		[ "$rc" = 0 ] && has "$WORK/$name.gen.txt" "^Key pair generated" || return 1
		AZKV_PKCS11_CONFIG="$WORK/keygen.json" "${P11TOOL[@]}" --read-object --type pubkey \
			--label "$name" -o "$WORK/$name.pub.der" &&
			in_vault "$name" "$WORK/$name.pub.der" || return 1
	done
	signs_as tool-rsa SHA256-RSA-PKCS && signs_as tool-ec ECDSA-SHA256
}
run pkcs11-tool-keypairgen-rsa-and-ec-in-vault pkcs11_tool_keypairgen

p11tool_generate_privkey() {
	[ -s "$WORK/keygen.json" ] || setup_keygen || return 1
	local spec name
	for spec in "rsa --bits 2048/p11tool-rsa" "ecdsa --curve secp256r1/p11tool-ec"; do
		name=${spec#*/}
		# shellcheck disable=SC2086
		AZKV_PKCS11_CONFIG="$WORK/keygen.json" "${P11T[@]}" --login \
			--generate-privkey=${spec%/*} --label "$name" --outfile "$WORK/$name.pub.pem" \
			"$URI" >"$WORK/$name.gen.txt" 2>&1
		local rc=$?
		cat "$WORK/$name.gen.txt"
		[ "$rc" = 0 ] && openssl pkey -pubin -in "$WORK/$name.pub.pem" -outform DER \
			>"$WORK/$name.pub.der" && in_vault "$name" "$WORK/$name.pub.der" || return 1
	done
	signs_as p11tool-rsa SHA256-RSA-PKCS && signs_as p11tool-ec ECDSA-SHA256
}
run p11tool-generate-privkey-rsa-and-ec-in-vault p11tool_generate_privkey

# Without the option, pkcs11-tool finds no key pair mechanism and the
# module's log says how to turn it on.
pkcs11_tool_keypairgen_off() {
	local out="$WORK/keygen-off.txt"
	if AZKV_PKCS11_CONFIG="$WORK/keygen-base.json" "${P11TOOL[@]}" --login --pin any \
		--keypairgen --key-type rsa:2048 --label tool-off >"$out" 2>&1; then
		cat "$out"
		echo "a key was made without allow_key_creation"
		return 1
	fi
	cat "$out"
	has "$out" "Generate RSA mechanism not supported" &&
		AZKV_PKCS11_CONFIG="$WORK/keygen-base.json" "${P11TOOL[@]}" --login --pin any \
			--keypairgen -m RSA-PKCS-KEY-PAIR-GEN --key-type rsa:2048 --label tool-off \
			>"$out" 2>&1
	cat "$out"
	has "$out" "C_GenerateKeyPair failed: rv = CKR_FUNCTION_NOT_SUPPORTED" &&
		has "$AZKV_PKCS11_LOG_FILE" "key creation is off for vault https://$TOKEN.vault.azure.net; set \"allow_key_creation\": true"
}
run pkcs11-tool-keypairgen-off-by-default pkcs11_tool_keypairgen_off

# ------------------------------------------------------------------ AES modes and MACs against SoftHSMv2
# The same AES and generic secret keys imported into both; every local AES
# mode and MAC run alike (xcheck_aes.c), and each line compared.
xcheck_aes_build() {
	# shellcheck disable=SC2046
	cc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror $(pkg-config --cflags p11-kit-1) \
		-o "$WORK/xcheck_aes" "$HERE/xcheck_aes.c" -ldl
}
# xcheck_aes_run NAME MODULE PIN: its lines in $WORK/xcheck_aes.NAME.
xcheck_aes_run() {
	bounded "$WORK/xcheck_aes" "$2" "$TOKEN" "$3" >"$WORK/xcheck_aes.$1"
	local rc=$?
	cat "$WORK/xcheck_aes.$1"
	[ "$rc" = 0 ] && [ -s "$WORK/xcheck_aes.$1" ]
}
if [ -e "$SOFTHSM" ] && [ -n "${SOFTHSM2_CONF:-}" ]; then
	run xcheck-aes-program-builds xcheck_aes_build
	run xcheck-aes-azkv-runs xcheck_aes_run azkv "$AZKV_MODULE" any
	run xcheck-aes-softhsm-runs xcheck_aes_run softhsm "$SOFTHSM" 1234
	run xcheck-aes-azkv-agrees-with-softhsm-line-by-line compare_with_softhsm xcheck_aes
else
	skip xcheck-aes "SoftHSMv2 token not set up"
fi

# ------------------------------------------------------------------ data objects
# CKO_DATA session objects: one create/copy/find/get/set/destroy sequence on
# both modules, compared line by line (tests/interop/xcheck_data.c).
xcheck_data_build() {
	# shellcheck disable=SC2046
	cc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror $(pkg-config --cflags p11-kit-1) \
		-o "$WORK/xcheck_data" "$HERE/xcheck_data.c" -ldl
}
xcheck_data_azkv() {
	bounded "$WORK/xcheck_data" "$AZKV_MODULE" "$TOKEN" any >"$WORK/xcheck_data.azkv"
	local rc=$?
	cat "$WORK/xcheck_data.azkv"
	[ "$rc" = 0 ]
}
xcheck_data_softhsm() {
	# SoftHSMv2's own departures from the spec are reported, not failed.
	bounded "$WORK/xcheck_data" "$SOFTHSM" "$TOKEN" 1234 >"$WORK/xcheck_data.softhsm"
	local rc=$?
	cat "$WORK/xcheck_data.softhsm"
	[ "$rc" -lt 100 ] && grep -q "check(s) failed" "$WORK/xcheck_data.softhsm"
}
run xcheck-data-program-builds xcheck_data_build
run xcheck-data-azkv-answers-as-the-spec-requires xcheck_data_azkv
if [ -e "$SOFTHSM" ] && [ -n "${SOFTHSM2_CONF:-}" ]; then
	run xcheck-data-softhsm-runs-the-same-calls xcheck_data_softhsm
	run xcheck-data-azkv-agrees-with-softhsm compare_with_softhsm xcheck_data
else
	skip xcheck-data-softhsm "SoftHSMv2 token not set up"
fi

harness_summary
