# What the azkv-cmk suites (tests/cmk/*.sh) share: the emulator, the test
# harness, the lab's names, the helpers below, and the setup (an emulator,
# its tenant, the lab's admin identity and a configuration for it). Sourced
# after HARNESS_NAME is set; needs AZKV_TOP_SRCDIR, AZKV_TOP_BUILDDIR and
# AZKV_MODULE.
#
# AZKV_TEST_VALGRIND=1  runs azkv-cmk under valgrind (leaks fail)

: "${AZKV_TOP_SRCDIR:?}" "${AZKV_TOP_BUILDDIR:?}" "${AZKV_MODULE:?}"
# shellcheck source=../emulator/emulator.sh
. "$AZKV_TOP_SRCDIR/tests/emulator/emulator.sh"
# shellcheck source=../harness.sh
. "$AZKV_TOP_SRCDIR/tests/harness.sh"

CMK_BIN="$AZKV_TOP_BUILDDIR/tools/azkv-cmk"
# rotate proves the new version through this module.
export AZKV_CMK_MODULE="$AZKV_MODULE"
SUB=00000000-0000-0000-0000-000000000000
RG=aifoundry-cmkencryption-RG
KEY=aifoundry-encryption-key
ACCOUNT=aifoundry-cmkencryption-resource

# cmk ARGS...: azkv-cmk with the test configuration (under valgrind when
# asked); output in $WORK/last.out, JSON (when --json) in $WORK/last.json.
cmk() {
	ours "$CMK_BIN" ${CONF:+-c "$CONF"} -g "$RG" "$@" \
		>"$WORK/last.stdout" 2>"$WORK/last.stderr" </dev/null
	local rc=$?
	cat "$WORK/last.stdout" "$WORK/last.stderr" >"$WORK/last.out"
	cp "$WORK/last.stdout" "$WORK/last.json"
	return $rc
}

# expect RC ARGS...: azkv-cmk exits with RC; shows its output when not.
expect() {
	local want=$1 rc
	shift
	cmk "$@"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "azkv-cmk $*: exit $rc, want $want"
		cat "$WORK/last.out"
		return 1
	fi
}

# says PATTERN: the last output (stdout and stderr) has it.
says() {
	has "$WORK/last.out" "$1"
}

# json FILTER: jq -e on the last --json output.
json() {
	jq -e "$1" "$WORK/last.json" >/dev/null || {
		echo "jq '$1' failed on:"
		cat "$WORK/last.out"
		return 1
	}
}

# The Foundry resource's own view of its key (the emulator's report).
foundry() {
	emu_admin account-cmk "$1" >"$WORK/foundry.json" || return 1
	jq -e "$2" "$WORK/foundry.json" >/dev/null || {
		echo "Foundry state: jq '$2' failed on:"
		cat "$WORK/foundry.json"
		return 1
	}
}

# unchanged COMMAND...: the command leaves the emulator's state as it was.
unchanged() {
	local before after
	before=$(sha256sum "$EMU_STATE/state.json")
	"$@" || return 1
	after=$(sha256sum "$EMU_STATE/state.json")
	[ "$before" = "$after" ] || {
		echo "the emulator's state changed"
		return 1
	}
}

# arm METHOD RESOURCE_ID API_VERSION [BODY]: a request to the emulated
# Resource Manager as the lab's admin, as the portal would make it.
arm() {
	local token
	token=$(emu_admin issue-token --identity "$(jq -r .client_id <<<"$ADMIN")" \
		--resource https://management.azure.com --lifetime 3600 | jq -r '.access_token') &&
		curl -fsS --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT" -X "$1" \
			-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
			${4:+-d "$4"} "https://management.azure.com$2?api-version=$3" >"$WORK/arm.json"
}

# token RESOURCE: a bearer token of the lab's admin for RESOURCE.
token() {
	emu_api POST /tokens "{\"identity\":\"$(jq -r .client_id <<<"$ADMIN")\",\"resource\":\"$1\",\"lifetime\":3600}" |
		jq -r .access_token
}

# kv METHOD PATH [JSON]: the vault's data plane as the lab's admin (what the
# rotation policy, or someone in the portal, does); the answer in $WORK/kv.json.
kv() {
	curl -fsS --max-time 20 --cacert "$EMU_CA" --connect-to "::127.0.0.1:$EMU_PORT" -X "$1" \
		-H "Authorization: Bearer $(token https://vault.azure.net)" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} \
		"https://labkv.vault.azure.net$2?api-version=7.5" >"$WORK/kv.json"
}

# policy_rotates: a new version, as the rotation policy makes it (the
# key's rotate operation); prints the version.
policy_rotates() {
	kv POST "/keys/$KEY/rotate" && jq -r '.key.kid | split("/") | last' "$WORK/kv.json"
}

# ------------------------------------------------------------------ setup
emu_start "$WORK/emulator" || exit 1
TENANT=$(emu_admin show-tenant | jq -r .tenant_id) || exit 1
ADMIN=$(emu_admin add-identity --name lab-admin) || exit 1
ADMIN_OID=$(jq -r .object_id <<<"$ADMIN")
CONF="$WORK/config.json"
emu_write_config "$CONF.tmp" "$ADMIN" "https://labkv.vault.azure.net" || exit 1
jq --arg sub "$SUB" '. + {arm: {subscription_id: $sub}}' "$CONF.tmp" >"$CONF" || exit 1
chmod 600 "$CONF"
LAB="--vault labkv --key $KEY --account $ACCOUNT"


# lab_setup [grant] [bind]: the lab's tasks 1-3 without testing them (the
# vault labkv with the admin as Key Vault Administrator, the key $KEY with
# the lab's rotation policy, the account $ACCOUNT with a system-assigned
# identity, whose principal is left in $MI); "grant" then grants it,
# "bind" binds it. For the suites that start where the lab ends.
lab_setup() {
	"$CMK_BIN" -c "$CONF" -g "$RG" -q create-vault --vault labkv --location eastus &&
		emu_admin assign-role --vault labkv --identity lab-admin \
			--role "Key Vault Administrator" >/dev/null &&
		"$CMK_BIN" -c "$CONF" -g "$RG" -q create-key --vault labkv --key "$KEY" \
			--rotate-after P6M --expire-after P210D >/dev/null &&
		emu_admin add-account --name "$ACCOUNT" --location eastus --identity system \
			--resource-group "$RG" >/dev/null || return 1
	MI=$(emu_admin list-accounts | jq -r --arg n "$ACCOUNT" \
		'.value[] | select(.name == $n) | .identity.principalId')
	case " $* " in *" grant "*)
		"$CMK_BIN" -c "$CONF" -g "$RG" -q grant $LAB >/dev/null || return 1 ;;
	esac
	case " $* " in *" bind "*)
		"$CMK_BIN" -c "$CONF" -g "$RG" -q bind $LAB >/dev/null || return 1 ;;
	esac
}
