#!/bin/bash
# Integration tests: the module, driven by real PKCS#11 clients, against
# the emulator. Run by `make check` (which sets AZKV_TOP_SRCDIR,
# AZKV_TOP_BUILDDIR and AZKV_MODULE), or by hand with those set.
#
# AZKV_TEST_VALGRIND=1  runs our own programs under valgrind (leaks fail)
# AZKV_TEST_SANITIZED=1 the module is an ASan build: only our own programs
#                       load it (third-party clients are not ASan builds)
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE
# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"

CHECKS="$AZKV_TOP_BUILDDIR/tests/integration/p11_checks"
ENVELOPE="$AZKV_TOP_BUILDDIR/tools/azkv-envelope"
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
HARNESS_NAME=it
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"


third_party() {
	[ "${AZKV_TEST_SANITIZED:-0}" != 1 ]
}

# The secrets the suite uses, for the scan at the end (no_secret_anywhere):
# "text VALUE" (a client secret) or "hex HEX" (key bytes: searched as hex,
# HEX, base64 and base64url). Tokens come from the emulator's list.
SECRETS="$WORK/secrets.list"
: >"$SECRETS"
remember_hex() { # HEX
	[ -n "$1" ] && printf 'hex %s\n' "$1" >>"$SECRETS"
}
remember_key_file() { # FILE of key bytes
	remember_hex "$(od -An -tx1 -v "$1" | tr -d ' \n')"
}

# ------------------------------------------------------------------ setup
# Every token the emulator issues is listed, for the secrets scan at the end.
emu_start "$WORK/emulator" --issued-token-log "$WORK/emulator/issued-tokens" || exit 1
emu_admin add-vault --name demo --purge-protection >/dev/null || exit 1
APP=$(emu_admin add-identity --name app) || exit 1
NOUNWRAP=$(emu_admin add-identity --name nounwrap) || exit 1
NOLIST=$(emu_admin add-identity --name nolist) || exit 1
emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$APP")" \
	--keys get,list,wrapKey,unwrapKey,encrypt,decrypt,sign,verify >/dev/null || exit 1
emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$NOUNWRAP")" \
	--keys get,list,wrapKey >/dev/null || exit 1
emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$NOLIST")" \
	--keys get,wrapKey,unwrapKey >/dev/null || exit 1
emu_admin create-key --vault demo --name cmk --kty RSA --size 2048 >/dev/null || exit 1
emu_admin create-key --vault demo --name other --kty RSA --size 2048 >/dev/null || exit 1
emu_admin create-key --vault demo --name signing --kty RSA --size 2048 --ops sign,verify \
	>/dev/null || exit 1
emu_admin create-key --vault demo --name ec --kty EC --crv P-256 >/dev/null || exit 1
# For the signature and encryption checks (p11_checks crypto, openssl_* below).
emu_admin create-key --vault demo --name rsa3072 --kty RSA --size 3072 >/dev/null || exit 1
emu_admin create-key --vault demo --name nosign --kty RSA --size 2048 --ops wrapKey,unwrapKey \
	>/dev/null || exit 1
emu_admin create-key --vault demo --name ec384 --kty EC --crv P-384 >/dev/null || exit 1
emu_admin create-key --vault demo --name ec521 --kty EC --crv P-521 >/dev/null || exit 1
emu_admin create-key --vault demo --name ec256k --kty EC --crv P-256K >/dev/null || exit 1

VAULT=https://demo.vault.azure.net
emu_write_config "$WORK/default.json" "$APP" "$VAULT"
# The suite tests RSA1_5 (CKM_RSA_PKCS) decryption and unwrap against
# openssl, SoftHSM and the envelope tool, so its vault opts in; the default
# (off) is checked with default.json by rsa-pkcs1-v15-decrypt-off-by-default.
jq '.vaults[0].allow_rsa_pkcs1_v15_decrypt = true' "$WORK/default.json" >"$WORK/app.json"
export AZKV_PKCS11_CONFIG="$WORK/app.json"
export AZKV_PKCS11_LOG_FILE="$WORK/module.log"
export AZKV_PKCS11_LOG_LEVEL=trace

# ------------------------------------------------------------------ PKCS#11 semantics
run p11-roundtrip-and-misuse ours "$CHECKS" roundtrip
run p11-interfaces-3.0-and-2.40 ours "$AZKV_TOP_BUILDDIR/tests/integration/p11_interface"
run p11-create-copy-set-attributes ours "$AZKV_TOP_BUILDDIR/tests/integration/p11_objects"

# ------------------------------------------------------------------ login with a PIN
# A vault's optional "pin" (or "pin_file": its first line) gives its token
# CKF_LOGIN_REQUIRED; wrong PINs are refused, private keys hidden until
# login and after logout, and the PIN is never in the log. p11_login runs
# the same checks on SoftHSMv2; without a PIN nothing changes.
LOGIN="$AZKV_TOP_BUILDDIR/tests/integration/p11_login"
LOGIN_PIN=Pin-7f3a9c-inline
LOGIN_FILE_PIN=Pin-55e1-from-file
printf '%s\nnot the PIN\n' "$LOGIN_FILE_PIN" >"$WORK/pin.txt"
jq --arg pin "$LOGIN_PIN" '.vaults[0].pin = $pin' "$WORK/default.json" >"$WORK/pin.json"
jq --arg f "$WORK/pin.txt" '.vaults[0].pin_file = $f' "$WORK/default.json" >"$WORK/pin-file.json"
chmod 600 "$WORK/pin.txt" "$WORK/pin.json" "$WORK/pin-file.json"
login_with_pin() { # CONFIG PIN
	local log="$WORK/$(basename "$1" .json).log"
	AZKV_PKCS11_CONFIG="$1" AZKV_PKCS11_LOG_FILE="$log" ours "$LOGIN" pin demo "$2" cmk &&
		has "$log" "C_Login: wrong PIN for token 'demo'" &&
		has "$log" "C_CreateObject: a private object needs the user logged in" || return 1
	# At trace level, every call logged: the PIN (and the wrong ones, which
	# hold it) appears nowhere.
	! grep -F -e "$2" "$log" || {
		echo "the PIN is in $log"
		return 1
	}
}
run login-with-pin-hides-private-keys-until-login login_with_pin "$WORK/pin.json" "$LOGIN_PIN"
run login-with-pin-file-reads-its-first-line login_with_pin "$WORK/pin-file.json" \
	"$LOGIN_FILE_PIN"
run login-without-pin-shows-everything-as-before ours "$LOGIN" nopin demo cmk
login_config_errors() {
	jq --arg f "$WORK/pin.txt" '.vaults[0].pin = "1234" | .vaults[0].pin_file = $f' \
		"$WORK/default.json" >"$WORK/pin-both.json"
	jq --arg f "$WORK/no-such-pin" '.vaults[0].pin_file = $f' "$WORK/default.json" \
		>"$WORK/pin-missing.json"
	jq --arg f "$WORK" '.vaults[0].pin_file = $f' "$WORK/default.json" >"$WORK/pin-dir.json"
	checks_with "$WORK/pin-both.json" "$WORK/pin-both.log" expect-init $CKR_GENERAL_ERROR -- \
		"vaults\\[0\\]: give pin or pin_file, not both" &&
		checks_with "$WORK/pin-missing.json" "$WORK/pin-missing.log" \
			expect-init $CKR_GENERAL_ERROR -- "vaults\\[0\\]\\.pin_file $WORK/no-such-pin: No such file" &&
		checks_with "$WORK/pin-dir.json" "$WORK/pin-dir.log" \
			expect-init $CKR_GENERAL_ERROR -- "vaults\\[0\\]\\.pin_file $WORK: not a regular file"
}
login_softhsm() {
	local conf="$WORK/softhsm-login/softhsm2.conf"
	mkdir -p "$WORK/softhsm-login/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' \
		"$WORK/softhsm-login/tokens" >"$conf"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/login-key.pem" \
		2>/dev/null &&
		SOFTHSM2_CONF="$conf" softhsm2-util --init-token --free --label demo \
			--pin "$LOGIN_PIN" --so-pin 5678 >/dev/null &&
		SOFTHSM2_CONF="$conf" softhsm2-util --import "$WORK/login-key.pem" --token demo \
			--label cmk --id 01 --pin "$LOGIN_PIN" >/dev/null &&
		SOFTHSM2_CONF="$conf" AZKV_MODULE="$SOFTHSM" "$LOGIN" pin demo "$LOGIN_PIN" cmk
}
if [ -e "$SOFTHSM" ]; then
	run login-with-pin-same-answers-from-softhsm login_softhsm
else
	skip login-with-pin-same-answers-from-softhsm "SoftHSMv2 not installed"
fi

# Malformed templates (a NULL pValue with a length, wrong-size CK_BBOOL,
# CK_ULONG and CK_DATE values) and mechanism parameters: a clean CK_RV,
# a log line naming the attribute, no crash.
bad_templates() {
	ours "$CHECKS" templates &&
		has "$AZKV_PKCS11_LOG_FILE" "C_GenerateKey: template entry 2, attribute CKA_LABEL \\(0x3\\), length 5: pValue is NULL"
}
run p11-malformed-templates-and-parameters bad_templates

# RSA1_5 decryption and unwrap are opt-in per vault (the vault's PKCS#1
# v1.5 padding oracle): without allow_rsa_pkcs1_v15_decrypt, CKM_RSA_PKCS
# still encrypts, wraps, signs and verifies, but neither decrypts nor
# unwraps, and the log names the key that would allow it.
rsa_pkcs1_v15_decrypt_off() {
	local log="$WORK/rsa15-off.log"
	AZKV_PKCS11_CONFIG="$WORK/default.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$CHECKS" rsa-pkcs-decrypt-off &&
		has "$log" "C_DecryptInit: CKM_RSA_PKCS .*allow_rsa_pkcs1_v15_decrypt" &&
		has "$log" "C_UnwrapKey: CKM_RSA_PKCS .*allow_rsa_pkcs1_v15_decrypt"
}
run rsa-pkcs1-v15-decrypt-off-by-default rsa_pkcs1_v15_decrypt_off

# The CMK extension: versions, a rotation seen after AZKV_RefreshToken, a
# failed refresh that changes nothing. Versions a second apart: the vault's
# creation times have one-second resolution.
cmk_extension() {
	local admin="$EMU_PY $EMU_BIN admin --state-dir $EMU_STATE"
	local create="$admin create-key --vault demo --name cmkrot --ops sign,verify,wrapKey,unwrapKey"
	$create >/dev/null && sleep 1.1 && $create >/dev/null && sleep 1.1 || return 1
	# A key to delete in the vault, by an identity that may, through the data plane.
	local deleter token
	$admin create-key --vault demo --name cmkgone >/dev/null &&
		deleter=$(emu_admin add-identity --name cmk-deleter | jq -r .client_id) &&
		emu_admin set-policy --vault demo --identity "$deleter" --keys delete >/dev/null &&
		token=$(emu_admin issue-token --identity "$deleter" --resource https://vault.azure.net |
			jq -r .access_token) || return 1
	AZKV_CMK_GONE=cmkgone \
		AZKV_CMK_DELETE="curl -fsS --cacert $EMU_CA --connect-to ::127.0.0.1:$EMU_PORT -X DELETE -H 'Authorization: Bearer $token' '$VAULT/keys/cmkgone?api-version=7.4' >/dev/null" \
		AZKV_CMK_KEY=cmkrot AZKV_CMK_ROTATE="$create >/dev/null" \
		AZKV_CMK_FAULT_ON="$admin fault --add '{\"service\": \"keyvault\", \"method\": \"GET\", \"path_regex\": \"^/keys/cmkrot/versions\", \"status\": 403}' >/dev/null" \
		AZKV_CMK_FAULT_OFF="$admin fault --clear >/dev/null" \
		ours "$AZKV_TOP_BUILDDIR/tests/integration/p11_cmk" || return 1
	has "$AZKV_PKCS11_LOG_FILE" "refresh of $VAULT failed" &&
		has "$AZKV_PKCS11_LOG_FILE" "$VAULT refreshed: 2 object\\(s\\) new"
}
run cmk-extension-versions-and-refresh cmk_extension

# A third party builds the sample against the installed header alone,
# with the flags of the installed azkv-pkcs11.pc, and runs it.
cmk_sample_from_pkg_config() {
	local stage="$WORK/stage" built="$AZKV_TOP_BUILDDIR/include" prefix libdir cflags out
	make -s -C "$AZKV_TOP_BUILDDIR" DESTDIR="$stage" install-azkvincludeHEADERS \
		install-pkgconfigDATA || return 1
	prefix=$(PKG_CONFIG_PATH=$built pkg-config --variable=prefix azkv-pkcs11) &&
		libdir=$(PKG_CONFIG_PATH=$built pkg-config --variable=libdir azkv-pkcs11) || return 1
	# The staged copy is relocated, as if installed there.
	sed -i "s|^prefix=.*|prefix=$stage$prefix|" "$stage$libdir/pkgconfig/azkv-pkcs11.pc"
	export PKG_CONFIG_PATH="$stage$libdir/pkgconfig"
	cflags=$(pkg-config --cflags azkv-pkcs11) || return 1
	echo "cflags: $cflags"
	grep -q -- "-I$stage$prefix/include" <<<"$cflags" &&
		grep -q -- "$(pkg-config --cflags-only-I p11-kit-1)" <<<"$cflags" || return 1
	# shellcheck disable=SC2086
	cc -std=c11 -Wall -Wextra -Werror $cflags -o "$WORK/key-versions" \
		"$AZKV_TOP_SRCDIR/tools/azkv-key-versions.c" -ldl || return 1
	printf '#include <p11-kit/pkcs11.h>\n#include <azkv/azkv-pkcs11.h>\nAZKV_CMK_FUNCTION_LIST l;\n' \
		>"$WORK/header.cc"
	# shellcheck disable=SC2086
	c++ -Wall -Wextra -Werror $cflags -c -o "$WORK/header.o" "$WORK/header.cc" || return 1
	# A sanitizer build's module loads only into a sanitizer build: there the
	# build's own copy of the sample runs it (the one above proved the flags).
	local sample="$WORK/key-versions"
	third_party || sample="$AZKV_TOP_BUILDDIR/tools/azkv-key-versions"
	out=$(ours "$sample" "$AZKV_MODULE" --refresh cmkrot) || return 1
	echo "$out"
	grep -q "^cmkrot: 3 version(s), newest first" <<<"$out" &&
		[ "$(grep -c "(current)$" <<<"$out")" -eq 1 ] &&
		grep -q "key id *$VAULT/keys/cmkrot/" <<<"$out" &&
		grep -q "vault *$VAULT" <<<"$out" &&
		grep -q "key_ops *sign verify wrapKey unwrapKey$" <<<"$out" || return 1
	if [ -e "$SOFTHSM" ]; then
		"$WORK/key-versions" "$SOFTHSM" cmkrot 2>"$WORK/softhsm-versions.err"
		[ $? -eq 3 ] && grep -q "does not offer the \"Vendor AZKV CMK\" interface" \
			"$WORK/softhsm-versions.err" || return 1
	fi
}
run cmk-sample-built-with-pkg-config cmk_sample_from_pkg_config
run p11-sign-verify-encrypt-decrypt-aes ours "$CHECKS" crypto

# ------------------------------------------------------------------ signatures and ciphertexts openssl checks
# ECDSA signatures are r || s in PKCS#11 and DER in openssl.
ecdsa_raw_to_der() { # IN OUT
	local hex half
	hex=$(xxd -p -c 1000 "$1")
	half=$((${#hex} / 2))
	printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' \
		"${hex:0:$half}" "${hex:$half}" >"$1.cnf"
	openssl asn1parse -genconf "$1.cnf" -out "$2" -noout
}

ecdsa_der_to_raw() { # IN FIELD_BYTES OUT
	local r s
	read -r r s < <(openssl asn1parse -inform DER -in "$1" | sed -n 's/.*INTEGER *://p' | tr '\n' ' ')
	printf '%*s%s%*s%s' $((2 * $2 - ${#r})) '' "$r" $((2 * $2 - ${#s})) '' "$s" | tr ' ' 0 |
		xxd -r -p >"$3"
}

openssl_verifies_module_signatures() {
	local d="$WORK/sig" k h
	mkdir -p "$d"
	head -c 5000 /dev/urandom >"$d/data"
	for h in sha256 sha384 sha512; do
		openssl dgst -"$h" -binary "$d/data" >"$d/$h" || return 1
	done
	# DigestInfo prefixes (RFC 8017, 9.2).
	{ printf '3031300d060960864801650304020105000420' | xxd -r -p; cat "$d/sha256"; } >"$d/di256"
	{ printf '3051300d060960864801650304020305000440' | xxd -r -p; cat "$d/sha512"; } >"$d/di512"
	for k in cmk rsa3072 ec ec384 ec521 ec256k; do
		emu_admin export-public --vault demo --name $k >"$d/$k.pem" || return 1
	done
	for k in cmk rsa3072; do
		ours "$CHECKS" sign $k SHA256_RSA_PKCS "$d/data" "$d/$k.rs256" \
			SHA384_RSA_PKCS "$d/data" "$d/$k.rs384" SHA512_RSA_PKCS "$d/data" "$d/$k.rs512" \
			RSA_PKCS "$d/di256" "$d/$k.raw256" RSA_PKCS "$d/di512" "$d/$k.raw512" \
			SHA256_RSA_PKCS_PSS "$d/data" "$d/$k.ps256" \
			SHA512_RSA_PKCS_PSS "$d/data" "$d/$k.ps512" \
			RSA_PKCS_PSS-SHA384 "$d/sha384" "$d/$k.rawps384" || return 1
		for h in 256 384 512; do
			openssl dgst -sha$h -verify "$d/$k.pem" -signature "$d/$k.rs$h" "$d/data" ||
				return 1
		done
		# PKCS#1 v1.5 is deterministic: the DigestInfo signs the same.
		cmp "$d/$k.raw256" "$d/$k.rs256" && cmp "$d/$k.raw512" "$d/$k.rs512" || return 1
		for h in 256 512; do
			openssl dgst -sha$h -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:$((h / 8)) \
				-verify "$d/$k.pem" -signature "$d/$k.ps$h" "$d/data" || return 1
		done
		openssl pkeyutl -verify -pubin -inkey "$d/$k.pem" -in "$d/sha384" \
			-sigfile "$d/$k.rawps384" -pkeyopt digest:sha384 -pkeyopt rsa_padding_mode:pss \
			-pkeyopt rsa_pss_saltlen:48 || return 1
	done
	for k in ec:sha256 ec384:sha384 ec521:sha512 ec256k:sha256; do
		h=${k#*:}
		k=${k%:*}
		ours "$CHECKS" sign $k ECDSA_${h^^} "$d/data" "$d/$k.hashed" \
			ECDSA "$d/$h" "$d/$k.raw" || return 1
		ecdsa_raw_to_der "$d/$k.hashed" "$d/$k.hashed.der" &&
			ecdsa_raw_to_der "$d/$k.raw" "$d/$k.raw.der" || return 1
		openssl dgst -"$h" -verify "$d/$k.pem" -signature "$d/$k.hashed.der" "$d/data" ||
			return 1
		openssl pkeyutl -verify -pubin -inkey "$d/$k.pem" -in "$d/$h" \
			-sigfile "$d/$k.raw.der" || return 1
	done
}
run openssl-verifies-module-signatures openssl_verifies_module_signatures

module_verifies_openssl_signatures() {
	local d="$WORK/osig"
	mkdir -p "$d"
	head -c 3000 /dev/urandom >"$d/data"
	openssl dgst -sha256 -binary "$d/data" >"$d/sha256"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/rsa.pem" 2>/dev/null &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$d/ec.pem" &&
		emu_admin import-key --vault demo --name sig-rsa --pem "$d/rsa.pem" >/dev/null &&
		emu_admin import-key --vault demo --name sig-ec --pem "$d/ec.pem" >/dev/null || return 1
	openssl dgst -sha256 -sign "$d/rsa.pem" -out "$d/rs256" "$d/data" &&
		openssl dgst -sha384 -sign "$d/rsa.pem" -sigopt rsa_padding_mode:pss \
			-sigopt rsa_pss_saltlen:48 -out "$d/ps384" "$d/data" &&
		openssl dgst -sha256 -sign "$d/rsa.pem" -sigopt rsa_padding_mode:pss \
			-sigopt rsa_pss_saltlen:32 -out "$d/ps256" "$d/data" &&
		openssl dgst -sha384 -sign "$d/ec.pem" -out "$d/es384.der" "$d/data" &&
		openssl pkeyutl -sign -inkey "$d/ec.pem" -in "$d/sha256" -out "$d/ecraw.der" || return 1
	ecdsa_der_to_raw "$d/es384.der" 48 "$d/es384" && ecdsa_der_to_raw "$d/ecraw.der" 48 "$d/ecraw" ||
		return 1
	ours "$CHECKS" verify sig-rsa SHA256_RSA_PKCS "$d/data" "$d/rs256" \
		SHA384_RSA_PKCS_PSS "$d/data" "$d/ps384" RSA_PKCS_PSS-SHA256 "$d/sha256" "$d/ps256" &&
		ours "$CHECKS" verify sig-ec ECDSA_SHA384 "$d/data" "$d/es384" ECDSA "$d/sha256" "$d/ecraw"
}
run module-verifies-openssl-signatures module_verifies_openssl_signatures

module_decrypts_openssl_ciphertexts() {
	local d="$WORK/dec" m
	mkdir -p "$d"
	emu_admin export-public --vault demo --name cmk >"$d/cmk.pem" || return 1
	head -c 100 /dev/urandom >"$d/plain"
	openssl pkeyutl -encrypt -pubin -inkey "$d/cmk.pem" -in "$d/plain" -out "$d/oaep1" \
		-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 &&
		openssl pkeyutl -encrypt -pubin -inkey "$d/cmk.pem" -in "$d/plain" -out "$d/oaep256" \
			-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
			-pkeyopt rsa_mgf1_md:sha256 &&
		openssl pkeyutl -encrypt -pubin -inkey "$d/cmk.pem" -in "$d/plain" -out "$d/pkcs1" \
			-pkeyopt rsa_padding_mode:pkcs1 || return 1
	ours "$CHECKS" decrypt cmk RSA_PKCS_OAEP-SHA1 "$d/oaep1" "$d/out1" \
		RSA_PKCS_OAEP-SHA256 "$d/oaep256" "$d/out256" RSA_PKCS "$d/pkcs1" "$d/outpkcs1" &&
		for m in out1 out256 outpkcs1; do cmp "$d/plain" "$d/$m" || return 1; done
}
run module-decrypts-openssl-ciphertexts module_decrypts_openssl_ciphertexts

secret_not_logged() {
	secret=$(jq -r .client_secret <<<"$APP")
	[ -s "$AZKV_PKCS11_LOG_FILE" ] || { echo "trace log is empty"; return 1; }
	if grep -qF -- "$secret" "$AZKV_PKCS11_LOG_FILE"; then
		echo "the client secret appears in the trace log"
		return 1
	fi
	if grep -qiE 'bearer [A-Za-z0-9_-]{20}|eyJ[A-Za-z0-9_-]{20}' "$AZKV_PKCS11_LOG_FILE"; then
		echo "a token appears in the trace log"
		return 1
	fi
	has "$AZKV_PKCS11_LOG_FILE" "unwrapkey"
}
run trace-log-has-requests-but-no-secret secret_not_logged

# ------------------------------------------------------------------ logs people can use
# At info, one line per HTTP request with the PKCS#11 call's slot and op,
# status, latency, attempt and the x-ms-request-id the vault answered with
# (the emulator's request log holds the same id), for a support ticket to
# quote; "log": {"format": "json"} gives the same as one JSON object per
# line. The default level (warn) logs no request. Never a token.
request_log_sign() { # LOG [CONFIG]: one signature with key "signing"
	AZKV_PKCS11_CONFIG="${2:-$AZKV_PKCS11_CONFIG}" AZKV_PKCS11_LOG_FILE="$1" \
		ours "$CHECKS" sign signing SHA256_RSA_PKCS "$WORK/reqlog/data" "$WORK/reqlog/sig"
}
# The request id the emulator sent with the last answer to POST .../sign.
emulator_sign_request_id() {
	emu_admin requests | jq -er '[.value[] | select(.method == "POST" and
		(.path | test("^/keys/signing/[0-9a-f]+/sign$")))] | last | .request_id'
}
no_token_in() { # LOG
	if grep -qiE 'bearer |eyJ[A-Za-z0-9_-]{20}' "$1" || grep -qF -f "$EMU_STATE/issued-tokens" "$1"; then
		echo "a token is in $1"
		return 1
	fi
}
request_log_text() {
	local log="$WORK/reqlog/text.log" id
	mkdir -p "$WORK/reqlog" && head -c 1000 /dev/urandom >"$WORK/reqlog/data"
	AZKV_PKCS11_LOG_LEVEL=info request_log_sign "$log" || return 1
	id=$(emulator_sign_request_id) || return 1
	grep -E "^azkv-pkcs11 [0-9T:.-]+Z \[[0-9]+:[0-9]+\] info slot=0 op=C_Sign: http: POST demo.vault.azure.net/keys/signing/[0-9a-f]+/sign status=200 latency_ms=[0-9]+ request_id=$id attempt=1( |$)" "$log" ||
		{ echo "no sign line with request id $id:"; cat "$log"; return 1; }
	has "$log" "info slot=0 op=C_FindObjectsInit: http: GET demo.vault.azure.net/keys status=200 " &&
		no_token_in "$log" || return 1
	log="$WORK/reqlog/default.log"
	AZKV_PKCS11_LOG_LEVEL= request_log_sign "$log" || return 1
	if grep -q "http: " "$log"; then
		echo "requests logged at the default level"
		return 1
	fi
}
run log-info-has-slot-op-status-latency-request-id request_log_text
request_log_json() {
	local log="$WORK/reqlog/json.log" id
	# Readable by others (umask 022), so that reading it logs a warning:
	# held until the configuration's log settings apply, it is JSON too.
	jq '.log.format = "json"' "$AZKV_PKCS11_CONFIG" >"$WORK/reqlog/json.json" || return 1
	AZKV_PKCS11_LOG_LEVEL=info request_log_sign "$log" "$WORK/reqlog/json.json" || return 1
	id=$(emulator_sign_request_id) || return 1
	# Every line one object (jq -R: fromjson fails on any other line).
	jq -eR 'fromjson | .time and .level and .pid and .tid and .msg' "$log" >/dev/null || {
		cat "$log"
		return 1
	}
	jq -eRs --arg id "$id" '[split("\n")[] | select(. != "") | fromjson
		| select(.path? // "" | test("^/keys/signing/[0-9a-f]+/sign$"))] | length == 1 and
		(.[0] | .level == "info" and .slot == 0 and .op == "C_Sign" and .method == "POST" and
		 .host == "demo.vault.azure.net" and .status == 200 and (.latency_ms | type) == "number" and
		 .request_id == $id and .attempt == 1 and (.msg | startswith("http: POST ")))' "$log" &&
		jq -eRs '[split("\n")[] | select(. != "") | fromjson
			| select(.level == "warn" and (.msg | test("json.json is readable by")))] | length == 1' \
			"$log" || { cat "$log"; return 1; }
	no_token_in "$log"
}
run log-format-json-is-one-object-per-line request_log_json
# A failing call's line names the PKCS#11 call (op=), not the function in
# the module that found the fault, and its slot once the slot is known.
log_names_call_and_slot() {
	local log="$WORK/reqlog/ops.log"
	mkdir -p "$WORK/reqlog" && : >"$log"
	AZKV_PKCS11_LOG_FILE="$log" ours "$CHECKS" log-ops || return 1
	has "$log" "\] error op=C_Sign: C_Sign: session 57005 is not open$" &&
		has "$log" "\] error slot=0 op=C_OpenSession: C_OpenSession: flags 0x2 lack CKF_SERIAL_SESSION" &&
		has "$log" "\] error op=C_GetTokenInfo: slot 99 does not exist: the slots are 0 to [0-9]+ \(C_GetSlotList lists them\)$" &&
		has "$log" "\] error op=C_GetTokenInfo: C_GetTokenInfo: pInfo is NULL$" &&
		has "$log" "\] error op=C_OpenSession: C_OpenSession: phSession is NULL$" &&
		has "$log" "\] error op=C_GetSlotList: C_GetSlotList: pulCount is NULL$"
}
run log-lines-name-the-call-and-its-slot log_names_call_and_slot

# ------------------------------------------------------------------ installed, not configured
# A module registered with p11-kit but not configured yet has no slots and
# logs where it looked, so that programs loading every registered module
# are not disturbed (issue 20); a configuration named by
# AZKV_PKCS11_CONFIG that is missing still fails C_Initialize.
unconfigured_module_has_no_slots() {
	local log="$WORK/unconfigured.log" out
	out=$(env -u AZKV_PKCS11_CONFIG AZKV_PKCS11_LOG_LEVEL=info AZKV_PKCS11_LOG_FILE="$log" \
		pkcs11-tool --module "$AZKV_MODULE" -L 2>&1)
	grep -qF "info: no configuration at $DEFAULT_CONFIG (and AZKV_PKCS11_CONFIG is not set): no slots" \
		"$log" && grep -q "No slots" <<<"$out" || {
		echo "pkcs11-tool -L said: $out; the log:"
		cat "$log"
		return 1
	}
	[ "$(grep -c 'no configuration at' "$log")" = 1 ] || {
		echo "logged more than once:"
		cat "$log"
		return 1
	}
	if AZKV_PKCS11_CONFIG="$WORK/absent.json" pkcs11-tool --module "$AZKV_MODULE" -L \
		>"$WORK/absent.out" 2>&1; then
		echo "a missing AZKV_PKCS11_CONFIG file did not fail"
		return 1
	fi
	has "$WORK/absent.out" "CKR_GENERAL_ERROR"
}
DEFAULT_CONFIG=$(strings -a "$AZKV_MODULE" | grep -m1 '/azkv-pkcs11/config.json$')
if [ -e "$DEFAULT_CONFIG" ]; then
	skip unconfigured-module-has-no-slots "this machine has $DEFAULT_CONFIG"
elif ! third_party; then
	skip unconfigured-module-has-no-slots "sanitizer build: pkcs11-tool cannot load an ASan module"
else
	run unconfigured-module-has-no-slots unconfigured_module_has_no_slots
fi

# ------------------------------------------------------------------ envelope through the module
envelope_roundtrip() {
	head -c 100000 /dev/urandom >"$WORK/plain.bin"
	for alg in RSA-OAEP RSA-OAEP-256 RSA1_5; do
		ours "$ENVELOPE" seal --key cmk --alg "$alg" --in "$WORK/plain.bin" \
			--out "$WORK/sealed.$alg" || return 1
		ours "$ENVELOPE" open --in "$WORK/sealed.$alg" --out "$WORK/opened.$alg" || return 1
		cmp "$WORK/plain.bin" "$WORK/opened.$alg" || return 1
	done
	# A tampered envelope must not open.
	printf '\x01' | dd of="$WORK/sealed.RSA-OAEP" bs=1 seek=500 conv=notrunc 2>/dev/null
	if "$ENVELOPE" open --in "$WORK/sealed.RSA-OAEP" --out "$WORK/tampered" 2>/dev/null; then
		echo "a tampered envelope opened"
		return 1
	fi
}
run envelope-seal-open-all-algorithms envelope_roundtrip

# A number option that is not a number is a usage error (exit 2) naming it:
# before, strtoul read "12x" as 12 bytes and "x" as slot 0, and ran.
tools_refuse_malformed_numbers() {
	local rc
	"$ENVELOPE" wrap-new --key cmk --out "$WORK/dek.x" --bytes 12x 2>"$WORK/num.err"
	rc=$?
	cat "$WORK/num.err"
	[ $rc -eq 2 ] && grep -q -- '--bytes "12x" is not a whole number from 1 to 512' \
		"$WORK/num.err" && [ ! -e "$WORK/dek.x" ] || return 1
	"$AZKV_TOP_BUILDDIR/tools/azkv-key-versions" "$AZKV_MODULE" --slot x cmkrot \
		2>"$WORK/num.err"
	rc=$?
	cat "$WORK/num.err"
	[ $rc -eq 2 ] && grep -q -- '--slot "x" is not a slot number' "$WORK/num.err"
}
run tools-refuse-malformed-numbers tools_refuse_malformed_numbers

# ------------------------------------------------------------------ key versions
versions_after_rotation() {
	local v1 v2 out
	emu_admin create-key --vault demo --name rot >/dev/null || return 1
	head -c 5000 /dev/urandom >"$WORK/rot.plain"
	out=$("$ENVELOPE" -v seal --key rot --in "$WORK/rot.plain" --out "$WORK/rot.v1" 2>&1) ||
		return 1
	v1=$(sed -n 's|.*/keys/rot/\([0-9a-f]*\)$|\1|p' <<<"$out")
	# Rotation: a new version becomes the latest.
	emu_admin create-key --vault demo --name rot >/dev/null || return 1
	out=$("$ENVELOPE" -v seal --key rot --in "$WORK/rot.plain" --out "$WORK/rot.v2" 2>&1) ||
		return 1
	v2=$(sed -n 's|.*/keys/rot/\([0-9a-f]*\)$|\1|p' <<<"$out")
	echo "v1=$v1 v2=$v2"
	[ -n "$v1" ] && [ -n "$v2" ] && [ "$v1" != "$v2" ] || return 1
	# Both versions are objects: the latest labelled by name, the older by name/version.
	if third_party; then
		out=$(pkcs11-tool --module "$AZKV_MODULE" -O --type privkey) || return 1
		grep -q "label: *rot$" <<<"$out" && grep -q "label: *rot/$v1$" <<<"$out" || return 1
	fi
	# Data sealed before the rotation opens with the older version.
	ours "$ENVELOPE" open --in "$WORK/rot.v1" --out "$WORK/rot.out1" &&
		cmp "$WORK/rot.plain" "$WORK/rot.out1" &&
		ours "$ENVELOPE" open --in "$WORK/rot.v2" --out "$WORK/rot.out2" &&
		cmp "$WORK/rot.plain" "$WORK/rot.out2"
}
run key-versions-after-rotation versions_after_rotation

disabled_and_expired_keys() {
	local log="$WORK/disabled.log"
	emu_admin create-key --vault demo --name dis --disabled >/dev/null || return 1
	emu_admin create-key --vault demo --name old --exp $(($(date +%s) - 3600)) >/dev/null ||
		return 1
	emu_admin create-key --vault demo --name later --nbf $(($(date +%s) + 86400)) >/dev/null ||
		return 1
	for k in dis old later; do
		if AZKV_PKCS11_LOG_FILE="$log" "$ENVELOPE" seal --key $k --in "$WORK/rot.plain" \
			--out "$WORK/$k.sealed" 2>"$WORK/$k.err"; then
			echo "sealed with unusable key $k"
			return 1
		fi
		grep -q "C_WrapKey failed: CKR 0x68" "$WORK/$k.err" || { cat "$WORK/$k.err"; return 1; }
	done
	has "$log" "key 'dis' version .* is disabled in the vault" &&
		has "$log" "key 'old' version .* expired" &&
		has "$log" "key 'later' version .* is not valid before" || return 1
	# Unwrapping with a disabled version is refused by the vault.
	emu_admin export-public --vault demo --name dis >"$WORK/dis.pem" || return 1
	head -c 32 /dev/urandom >"$WORK/dis.dek"
	remember_key_file "$WORK/dis.dek"
	openssl pkeyutl -encrypt -pubin -inkey "$WORK/dis.pem" -in "$WORK/dis.dek" \
		-out "$WORK/dis.wrapped" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
		-pkeyopt rsa_mgf1_md:sha256 || return 1
	if AZKV_PKCS11_LOG_FILE="$log" "$ENVELOPE" unwrap --key dis --wrapped "$WORK/dis.wrapped" \
		2>"$WORK/dis.err"; then
		echo "unwrapped with a disabled key"
		return 1
	fi
	grep -q "C_UnwrapKey failed: CKR 0x68" "$WORK/dis.err" && has "$log" "HTTP 403"
}
run disabled-expired-not-yet-valid-keys disabled_and_expired_keys

# ------------------------------------------------------------------ pkcs11-tool (OpenSC)
if third_party; then
	P11TOOL="pkcs11-tool --module $AZKV_MODULE"
	slots() { $P11TOOL -L | tee /dev/stderr | grep -q "token label *: demo"; }
	run pkcs11-tool-lists-slots slots
	objects() {
		out=$($P11TOOL -O) || return 1
		echo "$out"
		grep -q "Private Key Object; RSA" <<<"$out" && grep -q "Public Key Object; RSA 2048" <<<"$out" &&
			grep -q "label: *cmk" <<<"$out" && grep -q "Public Key Object; EC" <<<"$out"
	}
	run pkcs11-tool-lists-objects objects
	mechs() {
		out=$($P11TOOL -M) || return 1
		echo "$out"
		grep -q "RSA-PKCS-OAEP" <<<"$out" && grep -q "AES-GCM" <<<"$out"
	}
	run pkcs11-tool-lists-mechanisms mechs
	read_pub() {
		$P11TOOL --read-object --type pubkey --label cmk -o "$WORK/cmk.der" &&
			openssl pkey -pubin -inform DER -in "$WORK/cmk.der" -out "$WORK/cmk.pem" &&
			openssl pkey -pubin -in "$WORK/cmk.pem" -text -noout | grep -q "2048 bit"
	}
	run pkcs11-tool-exports-public-key read_pub
else
	skip_each "sanitizer build: pkcs11-tool cannot load an ASan module" pkcs11-tool-lists-slots \
		pkcs11-tool-lists-objects pkcs11-tool-lists-mechanisms pkcs11-tool-exports-public-key
fi

# ------------------------------------------------------------------ DEK wrapped by openssl
openssl_wrapped_dek() {
	[ -s "$WORK/cmk.pem" ] || emu_admin export-public --vault demo --name cmk >"$WORK/cmk.pem"
	head -c 32 /dev/urandom >"$WORK/dek.bin"
	openssl pkeyutl -encrypt -pubin -inkey "$WORK/cmk.pem" -in "$WORK/dek.bin" \
		-out "$WORK/dek.wrapped" -pkeyopt rsa_padding_mode:oaep \
		-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 || return 1
	remember_key_file "$WORK/dek.bin"
	want=$(od -An -tx1 -v "$WORK/dek.bin" | tr -d ' \n')
	got=$(ours "$ENVELOPE" unwrap --key cmk --wrapped "$WORK/dek.wrapped" --alg RSA-OAEP-256) ||
		return 1
	# The key bytes are shown only when they differ (the scan at the end
	# reads every output).
	[ "$want" = "$got" ] || {
		echo "want $want"
		echo "got  $got"
		return 1
	}
}
run openssl-pkeyutl-wrapped-dek-unwraps openssl_wrapped_dek

# ------------------------------------------------------------------ DEK wrapped by the module, opened by openssl
module_wrapped_dek() {
	# A key pair we hold both halves of, imported into the vault.
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/local.pem" \
		2>/dev/null || return 1
	emu_admin import-key --vault demo --name imported --pem "$WORK/local.pem" >/dev/null ||
		return 1
	local alg name md want got opts
	for alg in RSA-OAEP:sha1 RSA-OAEP-256:sha256 RSA1_5:-; do
		name=${alg%%:*}
		md=${alg##*:}
		want=$(ours "$ENVELOPE" wrap-new --key imported --alg "$name" \
			--out "$WORK/module.wrapped") || return 1
		if [ "$md" = - ]; then
			opts=(-pkeyopt rsa_padding_mode:pkcs1)
		else
			opts=(-pkeyopt rsa_padding_mode:oaep -pkeyopt "rsa_oaep_md:$md"
				-pkeyopt "rsa_mgf1_md:$md")
		fi
		openssl pkeyutl -decrypt -inkey "$WORK/local.pem" -in "$WORK/module.wrapped" \
			-out "$WORK/module.dek" "${opts[@]}" || return 1
		got=$(od -An -tx1 -v "$WORK/module.dek" | tr -d ' \n')
		remember_hex "$want"
		remember_hex "$got"
		[ "$want" = "$got" ] || {
			echo "$name: module key $want, openssl unwrap $got"
			return 1
		}
	done
}
run module-wrapped-dek-decrypts-with-openssl module_wrapped_dek

# A certificate named in the configuration is shown beside its key, with
# the key's CKA_ID; one that does not hold the key's public key is not.
certificate_beside_key() {
	local log="$WORK/cert.log" out key_id cert_id
	[ -s "$WORK/local.pem" ] || { echo "needs the imported key of the previous test"; return 1; }
	openssl req -new -x509 -key "$WORK/local.pem" -subj /CN=imported -days 30 \
		-out "$WORK/imported.crt" 2>/dev/null || return 1
	jq --arg crt "$WORK/imported.crt" '.vaults[0].certificates = {imported: $crt, cmk: $crt}' \
		"$WORK/app.json" >"$WORK/certs.json"
	out=$(AZKV_PKCS11_CONFIG="$WORK/certs.json" AZKV_PKCS11_LOG_FILE="$log" \
		pkcs11-tool --module "$AZKV_MODULE" -O) || return 1
	echo "$out"
	key_id=$(awk '/^Private Key Object/ {k=1} k && /label:/ {l=$2} k && /ID:/ {if (l=="imported") {print $2; exit}}' <<<"$out")
	cert_id=$(awk '/^Certificate Object/ {c=1} c && /label:/ {l=$2} c && /ID:/ {if (l=="imported") {print $2; exit}}' <<<"$out")
	echo "key id $key_id, certificate id $cert_id"
	[ -n "$key_id" ] && [ "$key_id" = "$cert_id" ] &&
		[ "$(grep -c "^Certificate Object" <<<"$out")" -eq 1 ] &&
		has "$log" "does not hold the public key of vault key 'cmk'"
}
# pkcs11-tool lists the objects; a sanitizer build's module it cannot load.
if third_party; then
	run certificate-shown-beside-its-key certificate_beside_key
else
	skip certificate-shown-beside-its-key "sanitizer build: pkcs11-tool cannot load an ASan module"
fi

# ------------------------------------------------------------------ SoftHSMv2 interop
softhsm_wrapped_dek() {
	mkdir -p "$WORK/softhsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$WORK/softhsm/tokens" \
		>"$WORK/softhsm/softhsm2.conf"
	export SOFTHSM2_CONF="$WORK/softhsm/softhsm2.conf"
	softhsm2-util --init-token --free --label interop --pin 1234 --so-pin 5678 || return 1
	[ -s "$WORK/cmk.pem" ] || emu_admin export-public --vault demo --name cmk >"$WORK/cmk.pem"
	openssl pkey -pubin -in "$WORK/cmk.pem" -outform DER -out "$WORK/cmk.spki.der" || return 1
	# SoftHSM 2.6 wraps with OAEP only over SHA-1 (the vault's RSA-OAEP).
	for alg in RSA-OAEP RSA1_5; do
		want=$("$ENVELOPE" --module "$SOFTHSM" --token interop --pin 1234 wrap-new \
			--alg $alg --pubkey "$WORK/cmk.spki.der" --out "$WORK/softhsm.wrapped") || return 1
		got=$(ours "$ENVELOPE" unwrap --key cmk --alg $alg --wrapped "$WORK/softhsm.wrapped") ||
			return 1
		remember_hex "$want"
		[ -n "$want" ] && [ "$want" = "$got" ] || {
			echo "$alg: softhsm key $want"
			echo "$alg: vault unwrap $got"
			return 1
		}
	done
}
if [ -e "$SOFTHSM" ]; then
	run softhsm-wrapped-dek-unwraps softhsm_wrapped_dek
else
	skip softhsm-wrapped-dek-unwraps "SoftHSMv2 not installed"
fi

# ------------------------------------------------------------------ p11-kit registration
p11kit_lists_module() {
	home="$WORK/home"
	mkdir -p "$home/.config/pkcs11/modules"
	sed "s|^module:.*|module: $AZKV_MODULE|" "$AZKV_TOP_BUILDDIR/pkcs11/azkv-pkcs11.module" \
		>"$home/.config/pkcs11/modules/azkv-pkcs11.module"
	# p11-kit ignores user configuration when run as root: run it as nobody.
	as_user=""
	if [ "$(id -u)" -eq 0 ]; then
		chmod -R a+rX "$WORK"
		as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
	fi
	out=$($as_user env HOME="$home" AZKV_PKCS11_LOG_FILE= p11-kit list-modules) || return 1
	echo "$out"
	grep -q "^azkv-pkcs11: " <<<"$out" && grep -A3 "^azkv-pkcs11: " <<<"$out" |
		grep -q "library-description: Azure Key Vault PKCS#11"
}
if third_party; then
	run p11-kit-list-modules-shows-module p11kit_lists_module
else
	skip p11-kit-list-modules-shows-module "sanitizer build: p11-kit cannot load an ASan module"
fi

# ------------------------------------------------------------------ bad input
CKR_GENERAL_ERROR=0x5
CKR_DEVICE_ERROR=0x30
CKR_KEY_FUNCTION_NOT_PERMITTED=0x68

# checks_with CONFIG LOG ARGS... [-- PATTERN...]: p11_checks ARGS with the
# configuration CONFIG, logging to LOG, which must then hold each PATTERN
# (a log line naming the cause of each bad input).
checks_with() {
	local config=$1 log=$2 args=() pattern
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	AZKV_PKCS11_CONFIG="$config" AZKV_PKCS11_LOG_FILE="$log" ours "$CHECKS" "${args[@]}" ||
		return 1
	for pattern in "$@"; do
		has "$log" "$pattern" || return 1
	done
}

run login-config-errors-at-c-initialize login_config_errors

bad_missing_config() {
	checks_with "$WORK/no-such-config.json" "$WORK/missing.log" \
		expect-init $CKR_GENERAL_ERROR -- "no-such-config.json"
}
run bad-config-missing bad_missing_config

bad_malformed_config() {
	printf '{"vaults": [ {"url": "https://demo.vault.azure.net"}, ]\n' >"$WORK/malformed.json"
	checks_with "$WORK/malformed.json" "$WORK/malformed.log" \
		expect-init $CKR_GENERAL_ERROR -- "malformed.json"
}
run bad-config-malformed bad_malformed_config

bad_unknown_vault() {
	emu_write_config "$WORK/unknown.json" "$APP" https://nosuch.vault.azure.net
	checks_with "$WORK/unknown.json" "$WORK/unknown-vault.log" \
		expect-find $CKR_DEVICE_ERROR -- "nosuch.vault.azure.net"
}
run bad-unknown-vault-host bad_unknown_vault

bad_no_unwrap_permission() {
	emu_write_config "$WORK/nounwrap.json" "$NOUNWRAP" "$VAULT"
	checks_with "$WORK/nounwrap.json" "$WORK/forbidden.log" \
		expect-unwrap cmk $CKR_KEY_FUNCTION_NOT_PERMITTED -- "HTTP 403" "unwrapKey permission"
}
run bad-identity-without-unwrapkey bad_no_unwrap_permission

bad_no_list_permission() {
	emu_write_config "$WORK/nolist.json" "$NOLIST" "$VAULT"
	checks_with "$WORK/nolist.json" "$WORK/nolist.log" expect-find $CKR_DEVICE_ERROR -- "HTTP 403"
}
run bad-identity-without-list bad_no_list_permission

least_privilege_named_keys() {
	log="$WORK/least.log"
	emu_write_config "$WORK/least.json" "$NOLIST" "$VAULT"
	jq '.vaults[0].keys = ["cmk", "not-in-vault"]' "$WORK/least.json" >"$WORK/least2.json"
	AZKV_PKCS11_CONFIG="$WORK/least2.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$CHECKS" expect-unwrap cmk 0x0 && has "$log" "'not-in-vault'" &&
		! grep -q "GET demo.vault.azure.net/keys status=" "$log"
}
run least-privilege-identity-with-named-keys least_privilege_named_keys

# "wrap": "vault": C_WrapKey is the vault's wrapkey (its audit log sees
# it), and the vault's refusals map as a local wrap's would (issue 17: a
# 400 was CKR_ENCRYPTED_DATA_INVALID).
wrap_in_the_vault() {
	emu_write_config "$WORK/vaultwrap.json" "$APP" "$VAULT"
	jq '.wrap = "vault"' "$WORK/vaultwrap.json" >"$WORK/vaultwrap2.json"
	checks_with "$WORK/vaultwrap2.json" "$WORK/vaultwrap.log" wrap-in-vault cmk -- \
		"/wrapkey status=200" "/wrapkey status=400"
}
run wrap-in-the-vault-maps-its-refusals wrap_in_the_vault

# A vault in another tenant: the first request (no token) is answered with
# 401 and a challenge naming the vault's tenant. Not the configured one, so
# it is refused until credential.additionally_allowed_tenants names it (as
# azure-identity); then the module asks Entra for a token in that tenant,
# where this single-tenant app does not exist.
challenge_followed_to_vault_tenant() {
	log="$WORK/challenge.log"
	other=$(emu_admin add-tenant --name contoso | jq -r .tenant_id) || return 1
	emu_admin add-vault --name elsewhere --tenant "$other" >/dev/null || return 1
	emu_write_config "$WORK/elsewhere.json" "$APP" https://elsewhere.vault.azure.net
	AZKV_PKCS11_CONFIG="$WORK/elsewhere.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR &&
		has "$log" "GET elsewhere.vault.azure.net/keys status=401" &&
		has "$log" "challenge asks for a token from tenant $other" &&
		has "$log" "credential.additionally_allowed_tenants" &&
		! grep -q "oauth2/v2.0/token" "$log" || return 1
	jq --arg t "$other" '.credential.additionally_allowed_tenants = [$t]' \
		"$WORK/elsewhere.json" >"$WORK/elsewhere-allowed.json"
	log="$WORK/challenge-allowed.log"
	AZKV_PKCS11_CONFIG="$WORK/elsewhere-allowed.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR &&
		has "$log" "POST login.microsoftonline.com/$other/oauth2/v2.0/token" &&
		has "$log" "AADSTS700016"
}
run challenge-followed-to-vault-tenant challenge_followed_to_vault_tenant

bad_secret() {
	log="$WORK/badsecret.log"
	wrong=$(jq '.client_secret = "not-the-secret"' <<<"$APP")
	emu_write_config "$WORK/badsecret.json" "$wrong" "$VAULT"
	AZKV_PKCS11_CONFIG="$WORK/badsecret.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$CHECKS" expect-find $CKR_DEVICE_ERROR && has "$log" "AADSTS7000215" &&
		! grep -q "not-the-secret" "$log"
}
run bad-client-secret bad_secret

bad_emulator_down() {
	# A loopback port nothing listens on: bind one, note it, release it.
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	jq --arg to "127.0.0.1:$port" '.http.connect_to = $to' "$WORK/app.json" >"$WORK/down.json"
	checks_with "$WORK/down.json" "$WORK/down.log" expect-find $CKR_DEVICE_ERROR -- "127.0.0.1"
}
run bad-emulator-down bad_emulator_down

# ------------------------------------------------------------------ Managed HSM
# oct-HSM (AES) keys as secret-key objects, AES key wrap in the HSM, local
# RBAC at key scope; an RSA-HSM key in the same HSM as any vault RSA key.
HSM_URL=https://hsm.managedhsm.azure.net
HSM_KEYS='["aes128", "aes192", "aes256", "rsahsm", "aesimport"]'
hsm_setup() {
	emu_admin add-vault --name hsm --hsm --purge-protection --retention-days 7 &&
		HSMUSER=$(emu_admin add-identity --name hsm-user) &&
		HSMAUDIT=$(emu_admin add-identity --name hsm-auditor) &&
		HSMNONE=$(emu_admin add-identity --name hsm-none) || return 1
	local k bits
	for bits in 128 192 256; do
		emu_admin create-key --vault hsm --name aes$bits --kty oct-HSM --size $bits >/dev/null ||
			return 1
	done
	emu_admin create-key --vault hsm --name rsahsm --kty RSA-HSM --size 2048 >/dev/null || return 1
	for k in aes128 aes192 aes256 rsahsm aesimport; do
		emu_admin hsm-assign-role --vault hsm --identity hsm-user \
			--role "Managed HSM Crypto User" --key $k >/dev/null || return 1
	done
	# Reads the key but may not use it.
	emu_admin hsm-assign-role --vault hsm --identity hsm-auditor \
		--role "Managed HSM Crypto Auditor" --key aes256 >/dev/null || return 1
	hsm_config "$WORK/hsm.json" "$HSMUSER" "$HSM_KEYS" &&
		hsm_config "$WORK/hsm-auditor.json" "$HSMAUDIT" '["aes256"]' &&
		hsm_config "$WORK/hsm-none.json" "$HSMNONE" '["aes256"]' && HSM_READY=1
}
hsm_config() { # FILE IDENTITY KEYS: the HSM alone, its keys named (no list permission needed)
	emu_write_config "$1.tmp" "$2" "$HSM_URL" &&
		jq --argjson keys "$3" '.vaults[0].keys = $keys' "$1.tmp" >"$1"
}
run hsm-setup-keys-and-roles hsm_setup

# An AES key imported with bytes the test knows, allowed to unwrap only:
# its size cannot be learned (that takes a wrap), so the module unwraps
# with the HSM's size-free CKM_AES_KEY_WRAP; the wrapped key comes from
# an independent RFC 3394 implementation (python3-cryptography).
hsm_unwrap_only_key() {
	local token kek
	token=$(emu_admin issue-token --identity hsm-user --resource https://managedhsm.azure.net |
		jq -r .access_token) || return 1
	kek=$(head -c 32 /dev/urandom | xxd -p -c 64)
	remember_hex "$kek"
	remember_hex 00112233445566778899aabbccddeeff0011223344556677
	jq -n --arg k "$(xxd -r -p <<<"$kek" | base64 -w0 | tr '+/' '-_' | tr -d =)" \
		'{key: {kty: "oct", k: $k, key_ops: ["unwrapKey"]}}' >"$WORK/aesimport.json"
	curl -fsS --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT" -X PUT \
		-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		--data @"$WORK/aesimport.json" "$HSM_URL/keys/aesimport?api-version=7.5" >/dev/null ||
		return 1
	"$EMU_PY" -c 'import sys; from cryptography.hazmat.primitives import keywrap as k
sys.stdout.buffer.write(k.aes_key_wrap(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])))' \
		"$kek" 00112233445566778899aabbccddeeff0011223344556677 >"$WORK/aesimport.wrapped" ||
		return 1
	AZKV_PKCS11_CONFIG="$WORK/hsm.json" ours "$CHECKS" hsm-unwrap aesimport \
		"$WORK/aesimport.wrapped" 00112233445566778899aabbccddeeff0011223344556677 &&
		has "$AZKV_PKCS11_LOG_FILE" "C_UnwrapKey: CKM_AES_KEY_WRAP with 'aesimport'"
}

hsm_aes_each_size() {
	local bits
	for bits in 128 192 256; do
		AZKV_PKCS11_CONFIG="$WORK/hsm.json" ours "$CHECKS" hsm aes$bits $bits || return 1
	done
	has "$AZKV_PKCS11_LOG_FILE" "key 'aes192' version [0-9a-f]* is AES-192" &&
		has "$AZKV_PKCS11_LOG_FILE" "C_WrapKey: A192KW with 'aes192'" &&
		has "$AZKV_PKCS11_LOG_FILE" "C_UnwrapKey: CKM_AES_KEY_WRAP_PAD with 'aes256'" &&
		has "$AZKV_PKCS11_LOG_FILE" "POST hsm.managedhsm.azure.net/keys/aes128/[0-9a-f]*/wrapkey"
}

hsm_pkcs11_tool_lists() {
	local out
	out=$(AZKV_PKCS11_CONFIG="$WORK/hsm.json" pkcs11-tool --module "$AZKV_MODULE" -O) || return 1
	echo "$out"
	grep -q "Secret Key Object; AES length 32" <<<"$out" &&
		grep -q "Secret Key Object; AES length 16" <<<"$out" &&
		grep -q "label: *aes256" <<<"$out" && grep -q "Private Key Object; RSA" <<<"$out" &&
		[ "$(grep -c "^Public Key Object" <<<"$out")" -eq 1 ]
}

hsm_rsa_key() {
	AZKV_PKCS11_CONFIG="$WORK/hsm.json" ours "$CHECKS" hsm-rsa rsahsm
}

hsm_without_role() {
	checks_with "$WORK/hsm-auditor.json" "$WORK/hsm-auditor.log" \
		expect-hsm aes256 $CKR_KEY_FUNCTION_NOT_PERMITTED -- \
		"HTTP 403" "Microsoft.KeyVault/managedHsm/keys/wrap/action" \
		"grant the identity \"Managed HSM Crypto Service Encryption User\" at scope /keys/aes256" \
		"az keyvault role assignment create --hsm-name hsm "
}

hsm_no_role_at_all() {
	checks_with "$WORK/hsm-none.json" "$WORK/hsm-none.log" expect-find $CKR_DEVICE_ERROR -- \
		"HTTP 403" "managedHsm/keys/read/action"
}

if [ -n "${HSM_READY:-}" ]; then
	run hsm-aes-wrap-unwrap-each-size hsm_aes_each_size
	run hsm-rsa-hsm-key-as-before hsm_rsa_key
	run hsm-unwrap-only-key-rfc3394-interop hsm_unwrap_only_key
	if third_party; then
		run hsm-pkcs11-tool-lists-aes-secret-keys hsm_pkcs11_tool_lists
	else
		skip hsm-pkcs11-tool-lists-aes-secret-keys \
			"sanitizer build: pkcs11-tool cannot load an ASan module"
	fi
	run hsm-identity-without-role-not-permitted hsm_without_role
	run hsm-identity-without-any-role-cannot-read hsm_no_role_at_all
else
	skip_each "the Managed HSM setup failed" hsm-aes-wrap-unwrap-each-size hsm-rsa-hsm-key-as-before \
		hsm-unwrap-only-key-rfc3394-interop hsm-pkcs11-tool-lists-aes-secret-keys \
		hsm-identity-without-role-not-permitted hsm-identity-without-any-role-cannot-read
fi

# ------------------------------------------------------------------ key creation (C_GenerateKeyPair)
# Off by default: CKR_FUNCTION_NOT_SUPPORTED and a log line saying how to
# turn it on. On ("allow_key_creation": true), with an identity that may
# create keys: the template cases, keys made, and key_ops in the vault.
KEYGEN="$AZKV_TOP_BUILDDIR/tests/integration/p11_keygen"
keygen_off() {
	local log="$WORK/keygen-off.log"
	AZKV_PKCS11_LOG_FILE="$log" ours "$KEYGEN" off &&
		has "$log" "C_GenerateKeyPair: key creation is off for vault $VAULT; set \"allow_key_creation\": true"
}
run keygen-off-by-default-says-how-to-enable keygen_off

keygen_templates() {
	local log="$WORK/keygen.log" creator
	creator=$(emu_admin add-identity --name keygen) &&
		emu_admin set-policy --vault demo --identity "$(jq -r .client_id <<<"$creator")" \
			--keys get,list,create,sign,verify >/dev/null || return 1
	emu_write_config "$WORK/keygen-on.json" "$creator" "$VAULT"
	jq '.vaults[0].allow_key_creation = true' "$WORK/keygen-on.json" >"$WORK/keygen.json"
	AZKV_PKCS11_CONFIG="$WORK/keygen.json" AZKV_PKCS11_LOG_FILE="$log" ours "$KEYGEN" templates &&
		has "$log" "CKA_TOKEN=FALSE: the vault holds only persistent keys" &&
		has "$log" "the templates need CKA_LABEL" &&
		has "$log" "CKA_LABEL \"bad_name\" is not a Key Vault key name" &&
		has "$log" "a key named 'gen-sign' is in $VAULT already" &&
		has "$log" "creating RSA key 'gen-wrap' \\(2048 bits\\)" &&
		has "$log" "creating EC key 'gen-ec256k' \\(P-256K\\)" || return 1
	# One create per key made, none for a refused template.
	[ "$(grep -c "POST demo.vault.azure.net/keys/[^/]*/create status=" "$log")" = 4 ] || {
		grep "/create" "$log"
		return 1
	}
}
run keygen-templates-keys-made-and-key-ops-in-vault keygen_templates

# Refusals of the vault: an identity without create permission (403), and
# the name of a deleted key the vault keeps for recovery (409).
CKR_ATTRIBUTE_VALUE_INVALID=0x13
CKR_TOKEN_WRITE_PROTECTED=0xe2
keygen_vault_refusals() {
	local log="$WORK/keygen-refused.log" deleter token
	jq '.vaults[0].allow_key_creation = true' "$WORK/default.json" >"$WORK/keygen-app.json"
	AZKV_PKCS11_CONFIG="$WORK/keygen-app.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$KEYGEN" expect no-create $CKR_TOKEN_WRITE_PROTECTED &&
		has "$log" "C_GenerateKeyPair: creating key 'no-create' in $VAULT: .*HTTP 403.* -> CKR_TOKEN_WRITE_PROTECTED" ||
		return 1
	emu_admin create-key --vault demo --name gen-gone >/dev/null &&
		deleter=$(emu_admin add-identity --name keygen-deleter | jq -r .client_id) &&
		emu_admin set-policy --vault demo --identity "$deleter" --keys delete,get,list,create >/dev/null &&
		token=$(emu_admin issue-token --identity "$deleter" --resource https://vault.azure.net |
			jq -r .access_token) &&
		curl -fsS --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT" -X DELETE \
			-H "Authorization: Bearer $token" "$VAULT/keys/gen-gone?api-version=7.4" >/dev/null ||
		return 1
	AZKV_PKCS11_CONFIG="$WORK/keygen.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$KEYGEN" expect gen-gone $CKR_ATTRIBUTE_VALUE_INVALID &&
		has "$log" "creating key 'gen-gone' in $VAULT: .*HTTP 409.*deleted but recoverable.* -> CKR_ATTRIBUTE_VALUE_INVALID"
}
run keygen-vault-refusals-403-and-deleted-name keygen_vault_refusals

# On a token with a PIN the private key is a private object: no key is made
# before C_Login (CKR_USER_NOT_LOGGED_IN, as SoftHSMv2 answers), and the
# vault is not asked.
keygen_needs_login_on_a_pin_token() {
	local log="$WORK/keygen-pin.log"
	jq '.vaults[0].pin = "1234"' "$WORK/keygen.json" >"$WORK/keygen-pin.json"
	chmod 600 "$WORK/keygen-pin.json"
	AZKV_PKCS11_CONFIG="$WORK/keygen-pin.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$KEYGEN" expect gen-nologin 0x101 &&
		has "$log" "C_GenerateKeyPair: the token has a PIN; log in \\(C_Login\\) before creating keys" &&
		! grep "gen-nologin" "$log" | grep -q "create ->"
}
run keygen-on-a-pin-token-needs-login keygen_needs_login_on_a_pin_token

# A Managed HSM has HSM keys only: the key made there is RSA-HSM.
keygen_in_managed_hsm() {
	local log="$WORK/keygen-hsm.log" creator
	creator=$(emu_admin add-identity --name hsm-keygen) &&
		emu_admin hsm-assign-role --vault hsm --identity hsm-keygen \
			--role "Managed HSM Crypto User" --scope /keys >/dev/null || return 1
	emu_write_config "$WORK/keygen-hsm-base.json" "$creator" "$HSM_URL"
	jq '.vaults[0].allow_key_creation = true' "$WORK/keygen-hsm-base.json" >"$WORK/keygen-hsm.json"
	AZKV_PKCS11_CONFIG="$WORK/keygen-hsm.json" AZKV_PKCS11_LOG_FILE="$log" \
		ours "$KEYGEN" expect hsm-made 0x0 &&
		has "$log" "creating RSA-HSM key 'hsm-made' \\(2048 bits\\) in $HSM_URL" &&
		[ "$(emu_api GET /vaults/hsm/keys/hsm-made/public | jq -r .kty)" = RSA-HSM ]
}
if [ -n "${HSM_READY:-}" ]; then
	run keygen-in-managed-hsm-makes-rsa-hsm keygen_in_managed_hsm
else
	skip keygen-in-managed-hsm-makes-rsa-hsm "the Managed HSM setup failed"
fi

# ------------------------------------------------------------------ ARM client (src/arm.c)
# The Resource Manager client the admin utility uses: vault properties,
# accessPolicies/add, a 404, and a Cognitive Services account's
# customer-managed key set through a long-running PATCH.
arm_client_checks() {
	local admin vault_id account_id kid
	admin=$(emu_admin add-identity --name arm-admin) || return 1
	emu_write_config "$WORK/arm.json" "$admin" "$VAULT"
	vault_id=$(emu_admin show-vault --vault demo | jq -r .resource_id) || return 1
	account_id=$(emu_admin add-account --name armcmk --identity system | jq -r .id) || return 1
	kid=$(emu_admin create-key --vault demo --name arm-cmk | jq -r .key.kid) || return 1
	ours "$AZKV_TOP_BUILDDIR/tests/integration/arm_checks" "$WORK/arm.json" "$vault_id" \
		"$(jq -r .object_id <<<"$admin")" "$account_id" arm-cmk "${kid##*/}"
}
run arm-client-vault-policies-and-cmk-lro arm_client_checks

# ------------------------------------------------------------------ text from the server
# An error message with a newline, a forged log line and terminal escape
# sequences: the module's log shows it escaped, on one line.
server_text_escaped_in_log() {
	local log="$WORK/hostile-text.log"
	local admin="$EMU_PY $EMU_BIN admin --state-dir $EMU_STATE"
	$admin fault --add '{"service": "keyvault", "method": "POST", "path_regex": "/unwrapkey", "status": 403, "code": "Forbidden", "message": "Denied.\n[fake] azkv-pkcs11 2026-01-01T00:00:00.000Z [1:1] info: all good\u001b[2J\u009b31m\u202e"}' \
		>/dev/null || return 1
	AZKV_PKCS11_LOG_FILE="$log" ours "$CHECKS" expect-unwrap cmk $CKR_KEY_FUNCTION_NOT_PERMITTED
	local rc=$?
	$admin fault --clear >/dev/null
	[ $rc -eq 0 ] &&
		has "$log" 'Denied\.\\n\[fake\] azkv-pkcs11 .* info: all good\\x1b\[2J\\u009b31m\\u202e' &&
		! grep -q '^\[fake\]' "$log" &&
		! grep -q $'\x1b' "$log" &&
		! grep -q $'\xc2\x9b' "$log" &&
		! grep -q $'\xe2\x80\xae' "$log"
}
run server-text-escaped-in-module-log server_text_escaped_in_log

# ------------------------------------------------------------------ no secret in any log or output
# Every module log (the suite runs at trace level) and every output of
# every test above is searched for each secret used: each identity's
# client secret, the wrong one bad-client-secret tried, every token the
# emulator issued (whole, and its claims and signature parts alone), and
# the key bytes the tests know (hex, HEX, base64, base64url). The
# emulator's own files are read for the secrets (its state, its list of
# issued tokens), not searched: they are not ours.

# needles FILE: the strings to look for, one a line, into FILE.
secret_needles() {
	local kind value b64
	{
		jq -r '.identities[].client_secret // empty' "$EMU_STATE/state.json"
		echo not-the-secret
		if [ -s "$EMU_STATE/issued-tokens" ]; then
			cat "$EMU_STATE/issued-tokens"
			cut -d. -f2 "$EMU_STATE/issued-tokens"
			cut -d. -f3 "$EMU_STATE/issued-tokens"
		fi
		while read -r kind value; do
			case $kind in
			text) echo "$value" ;;
			hex)
				echo "$value"
				tr a-f A-F <<<"$value"
				b64=$(xxd -r -p <<<"$value" | base64 -w0)
				echo "$b64"
				echo "${b64%%=*}" | tr '+/' '-_'
				;;
			esac
		done <"$SECRETS"
	} | awk 'length($0) >= 8' | sort -u >"$1"
}

# secrets_in NEEDLES FILE...: 0 (and a report without the secrets
# themselves) if any file holds any needle.
secrets_in() {
	local needles=$1 f hit found=1
	shift
	# One pass over every file; then, for the files hit, which secret.
	while read -r f; do
		hit=$(grep -o -F -f "$needles" -- "$f" | head -n 1)
		echo "a secret (${#hit} characters, starting ${hit:0:4}...) is in $f"
		found=0
	done < <(grep -l -F -f "$needles" -- "$@")
	return $found
}

# The logs and outputs to search: our files in $WORK, not the emulator's,
# not the secrets list or the key files the tests made.
our_outputs() {
	find "$WORK" -path "$EMU_STATE" -prune -o -type f \
		\( -name '*.log' -o -name '*.out' -o -name '*.err' -o -name '*.stdout' \
		-o -name '*.stderr' \) -print | sort
}

no_secret_anywhere() {
	local needles="$WORK/scan/needles" n files
	mkdir -p "$WORK/scan"
	secret_needles "$needles" || return 1
	n=$(wc -l <"$needles")
	mapfile -t files < <(our_outputs)
	echo "searched ${#files[@]} files for $n strings ($(grep -c . "$EMU_STATE/issued-tokens") tokens, $(grep -c '^hex' "$SECRETS") keys)"
	# The scan must be able to fail: one secret of each kind, planted in
	# a log of its own, is found.
	local plant="$WORK/scan/planted.txt" kinds=0 secret dek
	secret=$(jq -r '[.identities[].client_secret // empty][0]' "$EMU_STATE/state.json")
	dek=$(awk '$1 == "hex" {print $2; exit}' "$SECRETS")
	for value in "$secret" "$(head -n 1 "$EMU_STATE/issued-tokens" | cut -d. -f2)" \
		"$(xxd -r -p <<<"$dek" | base64 -w0 | tr '+/' '-_' | tr -d =)" \
		"$(tr a-f A-F <<<"$dek")"; do
		printf 'azkv-pkcs11 trace: x=%s;\n' "$value" >"$plant"
		secrets_in "$needles" "$plant" >/dev/null || {
			echo "self-check: a planted secret (kind $kinds) was not found"
			return 1
		}
		kinds=$((kinds + 1))
	done
	rm -f "$plant"
	[ "$kinds" -eq 4 ] && [ "$n" -gt 10 ] || return 1
	! secrets_in "$needles" "${files[@]}"
}
scan_start=$(date +%s%N)
run no-secret-in-any-log-or-output no_secret_anywhere
echo "# the secrets scan took $((($(date +%s%N) - scan_start) / 1000000)) ms"

harness_summary
