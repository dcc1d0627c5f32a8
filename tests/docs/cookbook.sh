#!/bin/bash
# docs/cookbook.md runs as written: every fenced block whose info string is
# "sh run" is extracted and run, verbatim and in order, against the
# emulator, each one test named by the heading above it; a block fails on a
# non-zero exit (each runs in bash -e -o pipefail, and checks its own
# result). The blocks get only what the cookbook says they assume: env -i
# with AZKV_MODULE (the build tree's), AZKV_PKCS11_CONFIG, PATH (with
# build/tools first), an empty HOME and SSH_PORT; and the vaults and keys
# it describes, made here. For the ssh login, an sshd on a loopback port
# (as root only: sshd needs it to log a user in) accepts the signing-ec
# key, converted from the emulator's public key, not from the module.
# Run by `make check`, or by hand with AZKV_TOP_SRCDIR, AZKV_TOP_BUILDDIR
# and AZKV_MODULE set.
#
# AZKV_TEST_SANITIZED=1  the module is an ASan build, which the clients
#                        cannot load: everything is skipped
set -u

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
if [ "${AZKV_TEST_SANITIZED:-0}" = 1 ]; then
	echo "1..0 # SKIP sanitizer build: the clients are not ASan builds and cannot load an ASan module"
	exit 0
fi

COOKBOOK="$AZKV_TOP_SRCDIR/docs/cookbook.md"
CMK_BIN="$AZKV_TOP_BUILDDIR/tools/azkv-cmk"
HARNESS_NAME=cookbook
# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

SSHD_PID=
cookbook_cleanup() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	harness_cleanup
}
trap cookbook_cleanup EXIT

setup_failed() {
	echo "not ok - setup (emulator, vaults, keys; see the messages above)"
	failed=1
	harness_summary
	exit 1
}

# ------------------------------------------------------------------ the blocks
# Each runnable block in $WORK/blocks/NN.sh, its heading in NN.name. Lines
# inside any fenced block are never headings (a shell comment starts with
# "#" too).
mkdir -p "$WORK/blocks"
awk -v dir="$WORK/blocks" '
	!fenced && /^```sh run[ \t]*$/ { n++; file = sprintf("%s/%02d.sh", dir, n)
		print heading >sprintf("%s/%02d.name", dir, n); close(sprintf("%s/%02d.name", dir, n))
		printf "" >file; fenced = 1; runnable = 1; next }
	!fenced && /^```/ { fenced = 1; runnable = 0; next }
	fenced && /^```[ \t]*$/ { if (runnable) close(file); fenced = 0; next }
	fenced { if (runnable) print >file; next }
	/^#+ / { heading = $0; sub(/^#+ +/, "", heading) }
	END { if (fenced) { print "cookbook.md: a fenced block is not closed"; exit 1 } }
' "$COOKBOOK" || setup_failed

# Every runnable block has a heading of its own (its test's name), and the
# top of the cookbook says what the marker is.
blocks_are_named() {
	local names
	names=$(cat "$WORK"/blocks/*.name) || return 1
	[ "$(wc -l <<<"$names")" -ge 10 ] || {
		echo "only $(wc -l <<<"$names") runnable blocks found in $COOKBOOK"
		return 1
	}
	if grep -qv '[[:alnum:]]' <<<"$names" || [ -n "$(sort <<<"$names" | uniq -d)" ]; then
		echo "each runnable block needs a heading of its own above it; the headings:"
		echo "$names"
		return 1
	fi
	if grep -n '#' <<<"$names"; then
		echo "a heading with '#' would end its TAP name"
		return 1
	fi
	head -n 12 "$COOKBOOK" | grep -q '`sh run`'
}
run cookbook-runnable-blocks-each-have-a-heading blocks_are_named

# ------------------------------------------------------------------ what the cookbook assumes
# Through the admin API (emu_api, curl): a Python start per emu_admin call
# would cost the suite seconds.
emu_start "$WORK/emulator" || setup_failed
ME=$(emu_api POST /identities '{"name": "cookbook"}') || setup_failed
emu_api POST /vaults '{"name": "contoso", "rbac": false}' >/dev/null &&
	emu_api PUT "/vaults/contoso/access-policies/$(jq -r .client_id <<<"$ME")" \
		'{"keys": ["get", "list", "sign", "verify", "wrapKey", "unwrapKey", "encrypt", "decrypt"]}' \
		>/dev/null &&
	emu_api POST /vaults/contoso/keys \
		'{"name": "signing-rsa", "kty": "RSA", "size": 2048, "ops": ["sign", "verify"]}' >/dev/null &&
	emu_api POST /vaults/contoso/keys \
		'{"name": "signing-ec", "kty": "EC", "crv": "P-256", "ops": ["sign", "verify"]}' >/dev/null &&
	emu_api POST /vaults/contoso/keys '{"name": "data-key", "kty": "RSA", "size": 2048,
		"ops": ["encrypt", "decrypt", "wrapKey", "unwrapKey"]}' >/dev/null || setup_failed

CONFIG="$WORK/config.json"
emu_write_config "$CONFIG.tmp" "$ME" https://contoso.vault.azure.net https://labkv.vault.azure.net &&
	jq '. + {arm: {subscription_id: "00000000-0000-0000-0000-000000000000"}}' "$CONFIG.tmp" \
		>"$CONFIG" && chmod 600 "$CONFIG" || setup_failed

# The Foundry lab's tasks 1 to 3, as the cookbook says they come first.
RG=aifoundry-cmkencryption-RG
"$CMK_BIN" -c "$CONFIG" -g "$RG" -q create-vault --vault labkv --location eastus &&
	emu_api POST /vaults/labkv/role-assignments \
		'{"identity": "cookbook", "role": "Key Vault Administrator"}' >/dev/null &&
	"$CMK_BIN" -c "$CONFIG" -g "$RG" -q create-key --vault labkv --key aifoundry-encryption-key \
		--rotate-after P6M --expire-after P210D >/dev/null &&
	emu_api POST /accounts "{\"name\": \"aifoundry-cmkencryption-resource\", \"location\": \"eastus\",
		\"identity\": \"system\", \"resource_group\": \"$RG\"}" >/dev/null || setup_failed

# ------------------------------------------------------------------ an sshd on loopback
# Started as root only (it must switch to the user it logs in); the login
# recipe is skipped otherwise, saying so.
SSH_PORT=
start_sshd() {
	local dir="$WORK/sshd" try
	mkdir -p "$dir" /run/sshd || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" || return 1
	emu_api GET /vaults/contoso/keys/signing-ec/public | jq -r .pem >"$dir/signing-ec.pem" &&
		ssh-keygen -i -m PKCS8 -f "$dir/signing-ec.pem" >"$dir/authorized_keys" || return 1
	# A free port can be taken before sshd binds it (suites run in
	# parallel): then another one, three times at most.
	for try in 1 2 3; do
		SSH_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
			return 1
		sshd_on_port "$dir" && return 0
		echo "sshd on port $SSH_PORT, try $try:"
		cat "$dir/sshd.log"
	done
	SSH_PORT=
	return 1
}

# sshd_on_port DIR: sshd on 127.0.0.1:$SSH_PORT, until it listens (or exits,
# or 30 s have passed).
sshd_on_port() {
	local dir=$1
	cat >"$dir/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$SSH_PORT
		HostKey $dir/host_key
		PidFile none
		AuthorizedKeysFile $dir/authorized_keys
		StrictModes no
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		UsePAM no
		MaxStartups 4
	EOF
	/usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
	SSHD_PID=$!
	for _ in $(seq 300); do
		grep -q "Server listening" "$dir/sshd.log" && return 0
		kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
	return 1
}
NO_SSHD=
if [ "$(id -u)" != 0 ]; then
	NO_SSHD="not root: the test starts its sshd only as root (to log a user in)"
elif [ ! -x /usr/sbin/sshd ]; then
	NO_SSHD="no /usr/sbin/sshd (scripts/install-deps.sh installs openssh-server)"
else
	run sshd-on-loopback-accepts-signing-ec start_sshd
fi

# ------------------------------------------------------------------ run them
mkdir -p "$WORK/recipes" "$WORK/home"
run_block() { # FILE
	(cd "$WORK/recipes" && timeout -k 5 120 env -i HOME="$WORK/home" \
		PATH="$AZKV_TOP_BUILDDIR/tools:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		AZKV_MODULE="$AZKV_MODULE" AZKV_PKCS11_CONFIG="$CONFIG" ${SSH_PORT:+SSH_PORT=$SSH_PORT} \
		bash -e -o pipefail "$1" </dev/null)
}
for block in "$WORK"/blocks/*.sh; do
	name=$(cat "${block%.sh}.name")
	if grep -q 'SSH_PORT' "$block" && [ -z "$SSH_PORT" ]; then
		skip "$name" "${NO_SSHD:-the sshd did not start}"
	else
		run "$name" run_block "$block"
	fi
done

if [ "$failed" != 0 ] && [ -n "$SSHD_PID" ]; then
	echo "# sshd's log:"
	sed 's/^/#   /' "$WORK/sshd/sshd.log"
fi
harness_summary
