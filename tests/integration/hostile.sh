#!/bin/bash
# A hostile vault: the emulator's test-only hostile mode
# (tests/emulator/azkvemu/hostile.py) answers what no real vault answers,
# and each case shows that the module (driven by p11_hostile) returns a
# clean CKR_*, logs why, does not crash, does not hang (every case runs
# under `timeout`), and sends no token where it should not (the
# emulator's request log says which requests carried an Authorization
# header, to which host). Run by `make check`.
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
export AZKV_MODULE
# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"

DRIVER="$AZKV_TOP_BUILDDIR/tests/integration/p11_hostile"
HARNESS_NAME=hostile
HARNESS_MODULE_LOGS=1
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

# No case may take longer: a hang is a failure, not a stuck suite. The
# module's own bounds are shorter (http.timeout_ms below; a listing's 200
# pages / 1000 items / 60 s, keyvault.h).
CASE_TIMEOUT=60
# Long enough for a loaded machine's TLS handshakes (valgrind's: much
# longer), short enough that the slow drip is not the suite's wall time.
HTTP_TIMEOUT_MS=5000
[ "${AZKV_TEST_VALGRIND:-0}" != 1 ] || HTTP_TIMEOUT_MS=30000
HOST=hostile.vault.azure.net
VAULT=https://$HOST

# RSA moduli of sizes Key Vault never makes (openssl genpkey, fixed here:
# making a 5120-bit key takes too long for a test).
N1024=tfJ0SzxTHVmfpC5p8VvGJjKVyGH2eO61zu2KAeTpW09pcqHMVLtTsoablWZbFCl5buPoVXXwho2cqvaDSTlE7R76DY8J6OitNXHD84oFvSsbdCLKB0DYUTXEHHv-he2N3yCaPCyNp4jwN54lSiaAznkndn7Tkozhkh99aNh2rkc
N5120=yS7J40UmX7nQgyK1z6QacKHHcpzbIlpJ09YouxrvkLH4n2PejPi4J9IGdOzE0D_YvC7GENH4Kw7EPLGcEZcOeas7xpCnjLyzY1thTdhRoEz9U03ju38_9qiuata6LVg0w73-emckZjjoWPP_4aGerHqbH1kgtLyFab4lZJjG6R6S6qI6MMyJyUdzEOfVnsvF7IWIrP4oUsW--YDLcGEpvAKxtd0I1ZrnNWELqZKgnQJPmXEmJEeXDNHH2SMxRnLJdp8Uxm6QOM_ed4pL7GVv0s3vOQ8EB0bifo19Rmb_6wYMFvlSL1uuxBxtbmtA9wevxK_nQBMm0hy95yZEAnaShTFJiTBOHS5j2qLGBAeKSEFJWBZwPnxxlmE6xnY7VVeaa_PDwI6MFYN6xV0uvFG8_VZersreEX8FWGAi6nvdxHd5-r35KCipnDKdM7ZLYm2H3UQgx76zi-nqemihHlSzTMkmjZM9hjy5XYrFIIvn3Oigcv362jK5tesRe0enh3Ljp90jl-asKiz-bGjZ4W5aYnHNz0ejX92f9jU6R_IB0QTxUZWrFczWtFYbAFrseWHa5yEBBDDMJlW_Z1QF40WBZ4E-gvT0LPs4ucaOiwdsIfxw53focLD51uzCbxQTPrC6Udm5YOmnpUAeLiRvRsI68SGVFtUIV91lqcIvLMPc-_UpeYRe_zmhMCzVtA5STfe4VVpSJ7O-0Xcs5uX6DDXkuvy0hZFf3C-n8rnfolLm3AZSHQWewYsiGUsJHWg0rTBPr6I7JwMIREYFE8lxWd56RMmBLy7dswLSN3o7Yz8b63ZXkCZ0D4xOadEJPq01oOoRc11SOBGQ8_igrjUSUzGW-w

emu_start "$WORK/emulator" || exit 1
emu_admin add-vault --name hostile >/dev/null || exit 1
APP=$(emu_admin add-identity --name app) || exit 1
emu_admin set-policy --vault hostile --identity "$(jq -r .client_id <<<"$APP")" \
	--keys get,list,sign,verify,wrapKey,unwrapKey,encrypt,decrypt >/dev/null || exit 1
emu_admin create-key --vault hostile --name rsa --kty RSA --size 2048 >/dev/null || exit 1
emu_admin create-key --vault hostile --name ec --kty EC --crv P-256 >/dev/null || exit 1

emu_write_config "$WORK/listed.json" "$APP" "$VAULT"
jq --argjson t "$HTTP_TIMEOUT_MS" '.http.timeout_ms = $t | .retry.max_retries = 0 | .log.level = "debug"' \
	"$WORK/listed.json" >"$WORK/app.json" || exit 1
export AZKV_PKCS11_CONFIG="$WORK/app.json"

RSA_VERSION=$(emu_api GET /vaults/hostile/keys/rsa/public | jq -r .version) || exit 1

# hostile RULE...: only these rules from now on, and an empty request log.
hostile() {
	emu_api DELETE /hostile >/dev/null && emu_api DELETE /requests >/dev/null || return 1
	for rule in "$@"; do
		emu_api POST /hostile "$rule" >/dev/null || return 1
	done
}

# drive ARGS...: p11_hostile under the case timeout; its output in $OUT.
# Fails on a hang (124), a crash (a signal: > 128) or a usage error.
drive() {
	local cmd=("$DRIVER" "$@") limit=$CASE_TIMEOUT
	# As harness.sh's `ours` (a shell function, which timeout cannot run).
	if [ "${AZKV_TEST_VALGRIND:-0}" = 1 ]; then
		cmd=(valgrind -q --error-exitcode=99 --leak-check=full
			--errors-for-leak-kinds=definite,indirect
			--show-leak-kinds=definite,indirect "${cmd[@]}")
		limit=$((CASE_TIMEOUT * 3))
	fi
	OUT=$(timeout "$limit" "${cmd[@]}" 2>&1)
	local rc=$?
	echo "$OUT"
	case $rc in
	0) return 0 ;;
	124) echo "p11_hostile $*: no answer in $limit s" ;;
	*) echo "p11_hostile $*: exit status $rc (over 128: killed by signal $((rc - 128)))" ;;
	esac
	return 1
}

# answered CALL CKR: the driver printed that CALL returned CKR.
answered() {
	grep -qx "$1 $2" <<<"$OUT" || {
		echo "want $1 $2"
		return 1
	}
}

# no_token_except HOST: no request carried an Authorization header to any
# other host. With no HOST: none carried one at all.
no_token_except() {
	local bad
	bad=$(emu_api GET /requests | jq -c --arg h "${1:-}" \
		'[.value[] | select(.authorization and .host != $h)]') || return 1
	[ "$bad" = "[]" ] || {
		echo "a token went where it should not: $bad"
		return 1
	}
}

# refused RULE CKR LOG_REGEX: with RULE in force, C_FindObjectsInit
# (which reads the vault) answers CKR, the log matches, and no token left
# for another host.
refused() {
	hostile "$1" || return 1
	drive find || return 1
	answered C_FindObjectsInit "$2" &&
		has "$AZKV_PKCS11_LOG_FILE" "$3" &&
		no_token_except "$HOST"
}

# --- the key bundle's kid (issue 15, finding 1: a kid without a version
# crashed the host process with SIGSEGV). A vault that names another key,
# version or host is not this vault's answer: the read fails as a device
# error (CKR_DEVICE_ERROR: the token cannot be read), nothing is shown.
run kid-without-version refused '{"behaviour":"kid_no_version","path_regex":"^/keys/rsa$"}' \
	CKR_DEVICE_ERROR "kid \"https://$HOST/keys/rsa\" has no version"
run kid-on-another-host refused '{"behaviour":"kid_other_host","path_regex":"^/keys/rsa$"}' \
	CKR_DEVICE_ERROR "is on host evil.vault.azure.net, not on the vault's $HOST"
run kid-of-another-key refused '{"behaviour":"kid_other_name","path_regex":"^/keys/rsa$"}' \
	CKR_DEVICE_ERROR "names key someotherkey, not the rsa asked for"
run list-item-on-another-host refused '{"behaviour":"kid_other_host","path_regex":"^/keys$"}' \
	CKR_DEVICE_ERROR "list keys of $HOST: .*not on the vault's"

# A version asked for (named in the configuration) answered with another.
kid_other_version() {
	jq --arg k "rsa/$RSA_VERSION" '.vaults[0].keys = [$k]' "$WORK/app.json" >"$WORK/pinned.json"
	AZKV_PKCS11_CONFIG="$WORK/pinned.json" refused \
		'{"behaviour":"kid_other_version","path_regex":"^/keys/rsa/"}' CKR_DEVICE_ERROR \
		"is version 0123456789abcdef0123456789abcdef, not the $RSA_VERSION asked for"
}
run kid-of-another-version kid_other_version

# A version listing whose items have no version: the older versions are
# not loaded (as when listing them is not allowed), the latest is.
versions_without_version() {
	hostile '{"behaviour":"kid_no_version","path_regex":"^/keys/rsa/versions$"}' &&
		drive find && answered C_FindObjectsInit CKR_OK && grep -qx "object rsa 3" <<<"$OUT" &&
		has "$AZKV_PKCS11_LOG_FILE" "older versions not loaded: .*has no version"
}
run versions-listing-without-versions versions_without_version

# --- JWKs that are not what a vault makes: the key is not shown (a warning
# says why), the other keys are, and C_FindObjectsInit answers CKR_OK: one
# key the module cannot use (as a key type it does not know) does not
# hide the vault's others.
not_shown() {
	local other=ec
	[ "$1" != ec ] || other=rsa
	hostile "$2" && drive find && answered C_FindObjectsInit CKR_OK &&
		grep -qx "object $other 3" <<<"$OUT" || return 1
	if grep -q "^object $1 " <<<"$OUT"; then
		echo "key $1 is shown"
		return 1
	fi
	has "$AZKV_PKCS11_LOG_FILE" "$3"
}
patch_rsa() { printf '{"behaviour":"patch_key","path_regex":"^/keys/rsa(/|$)","key":%s}' "$1"; }
run rsa-modulus-1024-bits not_shown rsa "$(patch_rsa "{\"n\":\"$N1024\"}")" \
	"key 'rsa': unusable public key: JWK: RSA modulus of 1024 bits"
run rsa-modulus-5120-bits not_shown rsa "$(patch_rsa "{\"n\":\"$N5120\"}")" \
	"key 'rsa': unusable public key: JWK: RSA modulus"
run ec-point-off-the-curve not_shown ec \
	'{"behaviour":"patch_key","path_regex":"^/keys/ec(/|$)","key":{"y":"XqCXgFJx9OXWCx3QiCIkuyYHKbTtmtZiCbX3Z5wA1RQ"}}' \
	"key 'ec': unusable public key"
run ec-coordinates-of-another-curve not_shown ec \
	'{"behaviour":"patch_key","path_regex":"^/keys/ec(/|$)","key":{"crv":"P-384"}}' \
	"key 'ec': unusable public key"
# A key type that does not parse (RSA members under kty EC) is a bad answer.
run jwk-of-the-wrong-type refused "$(patch_rsa '{"kty":"EC"}')" CKR_DEVICE_ERROR \
	'JWK has no "crv"'

# --- key_ops: what an EC key cannot do is not offered, whatever key_ops say.
ec_ops() {
	hostile '{"behaviour":"patch_key","path_regex":"^/keys/ec(/|$)","key":{"key_ops":["sign","verify","unwrapKey","decrypt","wrapKey","encrypt"]}}' &&
		drive usage ec && answered C_GetAttributeValue CKR_OK &&
		grep -qx "CKA_SIGN 1 CKA_DECRYPT 0 CKA_UNWRAP 0" <<<"$OUT" &&
		has "$AZKV_PKCS11_LOG_FILE" "key 'ec' version .*: key_ops 0x33 are not possible for a EC key"
}
run key-ops-an-ec-key-cannot-do ec_ops
# What key_ops deny is refused before the vault is asked:
# CKR_KEY_FUNCTION_NOT_PERMITTED (PKCS#11: the key's attributes forbid it).
rsa_verify_only() {
	hostile "$(patch_rsa '{"key_ops":["verify"]}')" && drive sign rsa &&
		answered C_SignInit CKR_KEY_FUNCTION_NOT_PERMITTED &&
		has "$AZKV_PKCS11_LOG_FILE" "has CKA_SIGN=FALSE"
}
run key-ops-deny-sign rsa_verify_only

# --- bodies: CKR_DEVICE_ERROR (the device answered nonsense), each with
# its reason in the log.
run truncated-list-page refused '{"behaviour":"truncate","path_regex":"^/keys$"}' \
	CKR_DEVICE_ERROR 'list keys of .*: key list page has no "value" list'
run truncated-key-bundle refused '{"behaviour":"truncate","path_regex":"^/keys/rsa$"}' \
	CKR_DEVICE_ERROR 'get key rsa on .*: key bundle is not a JSON object'
run malformed-json refused '{"behaviour":"malformed","path_regex":"^/keys/ec$"}' \
	CKR_DEVICE_ERROR 'get key ec on .*: key bundle is not a JSON object'
run wrong-content-type refused '{"behaviour":"content_type","path_regex":"^/keys$"}' \
	CKR_DEVICE_ERROR 'list keys of .*: HTTP 200 with Content-Type "text/html", not JSON'
run empty-200 refused '{"behaviour":"empty","path_regex":"^/keys/rsa$"}' \
	CKR_DEVICE_ERROR 'get key rsa on .*: HTTP 200 with an empty body'
run body-over-16-MiB refused '{"behaviour":"oversize","path_regex":"^/keys$"}' \
	CKR_DEVICE_ERROR 'response body larger than 16777216 bytes'

# --- listings without end (issue 15, finding 3: A -> B -> A ran 10,000 pages).
run next-link-loop refused '{"behaviour":"next_loop","path_regex":"^/keys$"}' \
	CKR_DEVICE_ERROR 'nextLink goes back to page 2 of 3 \(a loop\)'
run endless-empty-pages refused '{"behaviour":"endless","path_regex":"^/keys$"}' \
	CKR_DEVICE_ERROR 'more than 200 pages'
run endless-pages-of-keys refused '{"behaviour":"endless","items":25,"path_regex":"^/keys$"}' \
	CKR_DEVICE_ERROR 'more than 1000 items'

# --- the transport. A redirect is not followed (the token would go with
# it): the 3xx is an error, and nothing reaches the host it names.
redirect() {
	refused '{"behaviour":"redirect","path_regex":"^/keys"}' CKR_DEVICE_ERROR \
		"HTTP 307" || return 1
	local followed
	followed=$(emu_api GET /requests | jq '[.value[] | select(.path | startswith("/hostile-redirect"))] | length')
	[ "$followed" = 0 ] || {
		echo "the redirect was followed $followed time(s)"
		return 1
	}
}
run redirect-to-another-host redirect
# A body a byte every 0.2 s: http.timeout_ms ($HTTP_TIMEOUT_MS ms) ends it.
run slow-drip refused '{"behaviour":"drip","path_regex":"^/keys$"}' CKR_DEVICE_ERROR \
	'list keys of .*(Timeout|timed out)'
# A certificate for another name: the handshake fails, no request is sent.
wrong_cert() {
	refused "{\"behaviour\":\"wrong_cert\",\"host\":\"$HOST\"}" CKR_DEVICE_ERROR \
		'SSL|certificate' || return 1
	local reached
	reached=$(emu_api GET /requests | jq --arg h "$HOST" '[.value[] | select(.host == $h)] | length')
	[ "$reached" = 0 ] || {
		echo "$reached request(s) reached $HOST through a wrong certificate"
		return 1
	}
}
run tls-certificate-for-another-host wrong_cert

# --- challenges. Pending the request loop (finding 2): the first request
# goes without a token, and a challenge for another resource or tenant is
# refused, so the vault never sees a token.
challenge() {
	refused "$1" CKR_DEVICE_ERROR "$2" && no_token_except ""
}
run challenge-for-another-resource challenge \
	'{"behaviour":"challenge","resource":"https://evil.example.test"}' \
	'challenge asks for a token for .*evil.example.test.* which does not belong'
run challenge-for-another-tenant challenge \
	'{"behaviour":"challenge","resource":"https://vault.azure.net"}' \
	'72f988bf-0000-4000-8000-0000000000ff'

harness_summary
