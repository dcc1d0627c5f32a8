# Shell helpers to run the emulator; sourced by tools/demo.sh and the tests.
# Needs AZKV_TOP_SRCDIR (the source tree). Uses Debian's /usr/bin/python3,
# which has python3-cryptography.

EMU_PY=/usr/bin/python3
EMU_BIN="$AZKV_TOP_SRCDIR/tests/emulator/azkv-emulator"

# emu_start STATE_DIR [SERVE_OPTION...]: starts the emulator on a free
# loopback port and waits until it serves; its log is STATE_DIR/emulator.log.
# Sets EMU_STATE, EMU_PID, EMU_PORT, EMU_CA.
emu_start() {
	EMU_STATE=$1
	shift
	mkdir -p "$EMU_STATE"
	rm -f "$EMU_STATE/emulator.json"
	"$EMU_PY" "$EMU_BIN" serve --state-dir "$EMU_STATE" "$@" >>"$EMU_STATE/emulator.log" 2>&1 &
	EMU_PID=$!
	i=0
	while [ ! -s "$EMU_STATE/emulator.json" ]; do
		if ! kill -0 "$EMU_PID" 2>/dev/null; then
			echo "emulator exited; its log:" >&2
			cat "$EMU_STATE/emulator.log" >&2
			return 1
		fi
		i=$((i + 1))
		if [ "$i" -gt 300 ]; then
			echo "emulator did not start in 30 s" >&2
			return 1
		fi
		sleep 0.1
	done
	EMU_PORT=$(jq -r .port "$EMU_STATE/emulator.json")
	EMU_CA=$(jq -r .ca_file "$EMU_STATE/emulator.json")
}

emu_stop() {
	if [ -n "${EMU_PID:-}" ]; then
		kill "$EMU_PID" 2>/dev/null || true
		wait "$EMU_PID" 2>/dev/null || true
		EMU_PID=
	fi
}

emu_admin() {
	"$EMU_PY" "$EMU_BIN" admin --state-dir "$EMU_STATE" "$@"
}

# emu_api METHOD PATH [JSON]: the admin API (/_emulator PATH) straight
# through curl, much quicker than a Python start per emu_admin call.
emu_api() {
	curl -fsS --max-time 20 --cacert "$EMU_CA" -X "$1" -H 'Content-Type: application/json' \
		${3:+--data "$3"} "https://127.0.0.1:$EMU_PORT/_emulator$2"
}

# emu_ops_vault NAME DIR: the vault the soak and the bench drive: vault
# NAME, identity NAME-app (set in APP) allowed get, list, unwrapKey and
# sign, and three keys, NAME-unwrap (RSA-2048), NAME-rs256 (RSA-2048) and
# NAME-es256 (EC P-256), each with its public half as the emulator gives it
# in DIR/KEY.json ({kid, pem}) and DIR/KEY.pem; the module's configuration
# for it in DIR/NAME.json (mode 600).
emu_ops_vault() {
	name=$1
	dir=$2
	emu_api POST /vaults "{\"name\": \"$name\"}" >/dev/null &&
		APP=$(emu_api POST /identities "{\"name\": \"$name-app\"}") &&
		emu_api PUT "/vaults/$name/access-policies/$(printf "%s\n" "$APP" | jq -r .client_id)" \
			'{"keys": ["get", "list", "unwrapKey", "sign"]}' >/dev/null &&
		emu_api POST "/vaults/$name/keys" "{\"name\": \"$name-unwrap\", \"kty\": \"RSA\",
			\"size\": 2048, \"ops\": [\"wrapKey\", \"unwrapKey\"]}" >/dev/null &&
		emu_api POST "/vaults/$name/keys" "{\"name\": \"$name-rs256\", \"kty\": \"RSA\",
			\"size\": 2048, \"ops\": [\"sign\", \"verify\"]}" >/dev/null &&
		emu_api POST "/vaults/$name/keys" "{\"name\": \"$name-es256\", \"kty\": \"EC\",
			\"crv\": \"P-256\", \"ops\": [\"sign\", \"verify\"]}" >/dev/null || return 1
	for k in "$name-unwrap" "$name-rs256" "$name-es256"; do
		emu_api GET "/vaults/$name/keys/$k/public" >"$dir/$k.json" &&
			jq -r .pem "$dir/$k.json" >"$dir/$k.pem" || return 1
	done
	emu_write_config "$dir/$name.json" "$APP" "https://$name.vault.azure.net" &&
		chmod 600 "$dir/$name.json"
}

# emu_slow_http: the http settings for a program run under valgrind
# (AZKV_TEST_VALGRIND=1), whose TLS handshakes on a loaded machine can pass
# the default 5 s connect timeout (a valgrind run of tests/cmk/run.sh timed
# out so); {} otherwise. Timeouts are not what these tests judge.
emu_slow_http() {
	if [ "${AZKV_TEST_VALGRIND:-}" = 1 ]; then
		echo '{"connect_timeout_ms": 30000, "timeout_ms": 120000}'
	else
		echo '{}'
	fi
}

# emu_write_config FILE IDENTITY_JSON VAULT_URL...: a module configuration
# that reaches the emulator for the given vaults as the identity printed by
# `emu_admin add-identity`.
emu_write_config() {
	file=$1
	identity=$2
	shift 2
	vaults=$(for v in "$@"; do printf '{"url":"%s"}\n' "$v"; done | jq -s .)
	jq -n --argjson id "$identity" --argjson vaults "$vaults" \
		--arg ca "$EMU_CA" --arg to "127.0.0.1:$EMU_PORT" '{
		vaults: $vaults,
		credential: {type: "client_secret", tenant_id: $id.tenant_id,
			     client_id: $id.client_id, client_secret: $id.client_secret},
		http: ({ca_file: $ca, connect_to: $to} + $slow),
		log: {level: "warn"}
	}' --argjson slow "$(emu_slow_http)" >"$file"
}
