#!/bin/bash
# azkv-cmk's output as az users script it (issue 20, item 6): --output
# json|jsonc|table|tsv|yaml|none on a document shaped as an object (check's)
# and as a list (a --query of its rules), --query (and its refusals, before
# anything is sent), colour only on a terminal and never with NO_COLOR or
# TERM=dumb (a terminal from util-linux's script), a long-running
# operation's progress on stderr only, --version and --debug. Run by
# `make check`; the helpers and the setup are in lib.sh. The forms' fine
# print is tests/unit/test_cmk_output.c's, the query language's
# tests/unit/test_cmk_query.c's.
set -u

HARNESS_NAME=cmk-output
# shellcheck source=lib.sh
. "$AZKV_TOP_SRCDIR/tests/cmk/lib.sh"

lab_setup grant || exit 1

# stdout_is TEXT: the last command's standard output is exactly TEXT.
stdout_is() {
	local want got
	want=$(printf '%s' "$1")
	got=$(cat "$WORK/last.stdout")
	if [ "$got" != "$want" ]; then
		echo "stdout:"
		cat -A "$WORK/last.stdout"
		echo "want:"
		printf '%s\n' "$want" | cat -A
		return 1
	fi
}

# on_a_terminal ARGS...: azkv-cmk with a terminal as its stdout and stderr
# (script(1)), under valgrind as `ours` runs it when asked; what the
# terminal got in $WORK/tty.out.
on_a_terminal() {
	local cmd vg=()
	[ "${AZKV_TEST_VALGRIND:-0}" = 1 ] && vg=(valgrind -q --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)
	printf -v cmd '%q ' "${vg[@]}" "$CMK_BIN" -c "$CONF" -g "$RG" "$@"
	script -qec "$cmd" /dev/null </dev/null >"$WORK/tty.out" 2>&1
}

# The document check writes (an object, with the rules as a list).
expect 0 --json check $LAB || exit 1
cp "$WORK/last.json" "$WORK/check.json"

# ------------------------------------------------------------------ json
json_is_the_document() {
	expect 0 -o json check $LAB &&
		jq -e --slurpfile d "$WORK/check.json" '. == $d[0]' "$WORK/last.json" >/dev/null &&
		expect 0 --output JSON check $LAB &&
		json '.command == "check" and .exitCode == 0 and (.rules | length) > 20' &&
		# Messages go to stderr, so stdout is the document alone.
		jq -e . "$WORK/last.stdout" >/dev/null
}
run output-json-is-the-document-and---json-its-alias json_is_the_document

# A character above U+FFFF was written as "\u1f600", which reads back as
# U+1F60 and a '0': it is a pair of surrogates.
json_escapes_above_the_bmp() {
	expect 2 --json check --vault 'vault-😀' --key "$KEY" &&
		json '.error.message | contains("vault-😀")' &&
		grep -q 'vault-\\ud83d\\ude00' "$WORK/last.stdout"
}
run output-json-writes-characters-above-the-bmp-as-surrogate-pairs json_escapes_above_the_bmp

# ----------------------------------------------------------------- table
# The columns of check's document: its keys whose values are strings,
# numbers or booleans but id, type and etag, capitalised, in order; and
# their values.
columns() {
	jq -r '[to_entries[] | select(.key != "id" and .key != "type" and .key != "etag")
		| select(.value | type == "string" or type == "number" or type == "boolean")
		| '"$1"'] | join(" ")' "$WORK/check.json"
}

table_of_an_object() {
	expect 0 -o table check $LAB &&
		[ "$(wc -l <"$WORK/last.stdout")" = 3 ] &&
		[ "$(sed -n 1p "$WORK/last.stdout" | tr -s ' ')" = \
			"$(columns '.key | (.[:1] | ascii_upcase) + .[1:]')" ] &&
		sed -n 2p "$WORK/last.stdout" | grep -qx -- '-[- ]*-' &&
		[ "$(sed -n 3p "$WORK/last.stdout" | tr -s ' ')" = "$(columns '.value | tostring')" ] &&
		has "$WORK/last.stdout" '^Command +Vault +VaultUri +Key +'
}
run output-table-of-an-object table_of_an_object

table_of_a_list() {
	expect 0 -o table check $LAB --query "rules[?id=='key.size' || id=='key.type'].{rule:id, status:status}" &&
		stdout_is "$(printf 'Rule      Status\n--------  ------\nkey.type  pass\nkey.size  pass')" &&
		# Without a query, each rule is a row (id is no column, as in az).
		expect 0 -o table check $LAB --query rules &&
		has "$WORK/last.stdout" '^Status +Message' &&
		[ "$(wc -l <"$WORK/last.stdout")" -eq "$(($(jq '.rules | length' "$WORK/check.json") + 2))" ]
}
run output-table-of-a-list table_of_a_list

table_without_a_column() {
	expect 2 -o table check $LAB --query '{r: rules}' &&
		says 'error: table output unavailable' &&
		says 'fix: choose the values with --query' &&
		[ ! -s "$WORK/last.stdout" ] &&
		# A failing command keeps its own exit code.
		expect 5 -o table check --vault nosuchkv --key "$KEY" --query '{e: error}'
}
run output-table-unavailable-is-a-usage-error table_without_a_column

# ------------------------------------------------------------------- tsv
tsv_of_a_list() {
	expect 0 -o tsv check $LAB --query "rules[?id=='key.size' || id=='key.type'].[id, status]" &&
		stdout_is "$(printf 'key.type\tpass\nkey.size\tpass')" &&
		expect 0 -o tsv check $LAB --query 'rules[].id' &&
		jq -r '.rules[].id' "$WORK/check.json" >"$WORK/ids" &&
		cmp -s "$WORK/ids" "$WORK/last.stdout"
}
run output-tsv-of-a-list tsv_of_a_list

tsv_of_an_object() {
	expect 0 -o tsv check $LAB &&
		# Every value, a list as its length, an object as an empty field.
		stdout_is "$(jq -r '[.[] | if type == "array" then length elif type == "object" then ""
			elif type == "boolean" then (if . then "True" else "False" end)
			elif . == null then "None" else tostring end] | join("\t")' "$WORK/check.json")" &&
		expect 0 -o tsv check $LAB --query '{c: command, ok: exitCode == `0`}' &&
		stdout_is "$(printf 'check\tTrue')" &&
		expect 0 -o tsv check $LAB --query 'exitCode == `0`' &&
		stdout_is true
}
run output-tsv-of-an-object tsv_of_an_object

# ------------------------------------------------------------------ yaml
# The YAML reads back (PyYAML, as az's users read it) as the JSON document.
yaml_reads_back_as_the_document() {
	expect 0 -o yaml check $LAB &&
		python3 -c '
import json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))
sys.exit(0 if doc == want else "YAML reads back otherwise:\n%r\n%r" % (doc, want))
' "$WORK/last.stdout" "$WORK/check.json" &&
		has "$WORK/last.stdout" '^command: check$' &&
		has "$WORK/last.stdout" '^- id: vault.soft-delete$' &&
		expect 0 -o yaml check $LAB --query "rules[?id=='key.size'] | [0].status" &&
		stdout_is pass
}
if python3 -c 'import yaml' 2>/dev/null; then
	run output-yaml-reads-back-as-the-document yaml_reads_back_as_the_document
else
	skip output-yaml-reads-back-as-the-document "python3-yaml is not installed"
fi

# ------------------------------------------------------------------ none
none_keeps_the_exit_code() {
	expect 0 -o none check $LAB &&
		[ ! -s "$WORK/last.stdout" ] &&
		expect 5 -o none check --vault nosuchkv --key "$KEY" &&
		[ ! -s "$WORK/last.stdout" ] &&
		says 'error: .*nosuchkv'
}
run output-none-prints-nothing-and-keeps-the-exit-code none_keeps_the_exit_code

# ----------------------------------------------------------------- query
query_selects_before_the_form() {
	expect 0 check $LAB --query 'rules[0].id' &&
		stdout_is '"vault.soft-delete"' &&
		expect 0 check $LAB --query "{result: result, failing: rules[?status=='fail'].id}" &&
		jq -e --slurpfile d "$WORK/check.json" \
			'. == {result: $d[0].result, failing: []}' "$WORK/last.json" >/dev/null &&
		# Null prints nothing, as with az.
		expect 0 check $LAB --query 'nothing.here' &&
		[ ! -s "$WORK/last.stdout" ]
}
run query-selects-before-the-output-form query_selects_before_the_form

# A bad query is refused before anything is sent: grant changes nothing.
bad_query_is_a_usage_error() {
	unchanged expect 2 grant $LAB --principal "$ADMIN_OID" --query 'rules[?status=="fail"' &&
		says '^azkv-cmk: error: --query: at character 22 of "rules\[\?status=="fail"": expected .\]., found the end$' &&
		says 'see: azkv-cmk grant --help' &&
		expect 2 status --query 'binding.{a}' &&
		says 'at character 11 .*expected .:., found .\}.' &&
		expect 2 status --query 'length(rules)' &&
		says 'functions are not supported' &&
		expect 2 -o xml status &&
		says '^azkv-cmk: error: --output "xml" is not one of text, json, jsonc, table, tsv, yaml, none$'
}
run query-that-is-not-one-is-a-usage-error-before-any-request bad_query_is_a_usage_error

# A query too long to parse safely, and one whose stages each double the
# document (2^30 copies), are usage errors, not a crash or out of memory.
query_too_big_is_a_usage_error() {
	local long doubling
	long="a$(printf '[]%.0s' {1..3000})" &&
		doubling="@$(printf '|[@, @]%.0s' {1..30})" &&
		expect 2 status --query "$long" &&
		says '^azkv-cmk: error: --query: longer than 4096 characters$' &&
		expect 2 status --query "a$(printf '.a%.0s' {1..600})" &&
		says '^azkv-cmk: error: --query: at character [0-9]+ of .*too many parts \(more than 512\)$' &&
		expect 2 check $LAB --query "$doubling" &&
		says '^azkv-cmk: error: --query: its result would take more than a million JSON values$'
}
run query-too-long-or-too-big-is-a-usage-error query_too_big_is_a_usage_error

# --output text, the default, undoes an earlier --json.
output_text_is_the_default() {
	expect 0 check $LAB && cp "$WORK/last.stdout" "$WORK/text.out" &&
		expect 0 --json -o text check $LAB &&
		cmp -s "$WORK/text.out" "$WORK/last.stdout" &&
		! jq -e . "$WORK/last.stdout" >/dev/null 2>&1 &&
		expect 2 -o xml status &&
		says '^azkv-cmk: error: --output "xml" is not one of text, json, jsonc, table, tsv, yaml, none$'
}
run output-text-is-the-default-form output_text_is_the_default

# Output that cannot be written (a full disk) fails a command that
# succeeded, with the service exit code.
unwritten_output_fails() {
	local rc
	ours "$CMK_BIN" -c "$CONF" -g "$RG" -o json status --vault labkv --key "$KEY" \
		>/dev/full 2>"$WORK/full.stderr" </dev/null
	rc=$?
	[ "$rc" = 6 ] || { echo "exit $rc, want 6"; cat "$WORK/full.stderr"; return 1; }
	has "$WORK/full.stderr" '^azkv-cmk: error: writing the output to standard output failed: No space left on device$'
}
if [ -w /dev/full ]; then
	run output-that-cannot-be-written-fails unwritten_output_fails
else
	skip_each "no /dev/full" output-that-cannot-be-written-fails
fi

# ---------------------------------------------------------------- colour
jsonc_is_coloured_on_a_terminal_only() {
	local esc=$'\033'
	expect 0 -o jsonc check $LAB --query '{c: command}' &&
		! grep -q "$esc" "$WORK/last.stdout" &&
		json '.c == "check"' &&
		on_a_terminal -o jsonc check $LAB --query '{c: command}' &&
		grep -q "$esc\\[94m\"c\"$esc\\[0m" "$WORK/tty.out" &&
		grep -q "$esc\\[32m\"check\"$esc\\[0m" "$WORK/tty.out" &&
		NO_COLOR=1 on_a_terminal -o jsonc check $LAB --query '{c: command}' &&
		! grep -q "$esc" "$WORK/tty.out" && grep -q '"c":' "$WORK/tty.out" &&
		TERM=dumb on_a_terminal -o jsonc check $LAB --query '{c: command}' &&
		! grep -q "$esc" "$WORK/tty.out" &&
		# NO_COLOR set but empty does not count (no-color.org).
		NO_COLOR= on_a_terminal -o jsonc check $LAB --query '{c: command}' &&
		grep -q "$esc" "$WORK/tty.out"
}

errors_are_red_on_a_terminal_only() {
	local esc=$'\033'
	expect 5 check --vault nosuchkv --key "$KEY" &&
		! grep -q "$esc" "$WORK/last.out" &&
		{ on_a_terminal check --vault nosuchkv --key "$KEY"; [ $? = 5 ]; } &&
		grep -q "$esc\\[31mazkv-cmk: error:$esc\\[0m .*nosuchkv" "$WORK/tty.out" &&
		{ NO_COLOR=1 on_a_terminal check --vault nosuchkv --key "$KEY"; [ $? = 5 ]; } &&
		! grep -q "$esc" "$WORK/tty.out" && grep -q 'azkv-cmk: error: ' "$WORK/tty.out"
}

if command -v script >/dev/null && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	run colour-jsonc-only-on-a-terminal-and-not-with-NO_COLOR-or-TERM-dumb \
		jsonc_is_coloured_on_a_terminal_only
	run colour-errors-red-only-on-a-terminal errors_are_red_on_a_terminal_only
else
	skip_each "no script(1) to give a terminal" \
		colour-jsonc-only-on-a-terminal-and-not-with-NO_COLOR-or-TERM-dumb \
		colour-errors-red-only-on-a-terminal
fi

# -------------------------------------------------------------- progress
# bind follows the long-running PATCH: on stderr, never on stdout; one line
# when it ends when stderr is not a terminal, a line redrawn on one.
progress_on_stderr_only() {
	expect 0 --json bind $LAB &&
		jq -e '.exitCode == 0' "$WORK/last.stdout" >/dev/null &&
		has "$WORK/last.stderr" '^  bind the resource to the key: operation Succeeded after [0-9]+ s$' &&
		[ "$(grep -c 'operation' "$WORK/last.stderr")" = 1 ]
}
run progress-goes-to-stderr-only progress_on_stderr_only

progress_redrawn_on_a_terminal() {
	local version
	version=$(policy_rotates) &&
		on_a_terminal bind $LAB --key-version "$version" &&
		grep -q $'\r  bind the resource to the key: waiting for Azure (operation [A-Za-z]*), [0-9]* s' \
			"$WORK/tty.out" &&
		grep -q $'\r  bind the resource to the key: operation Succeeded after [0-9]* s' "$WORK/tty.out"
}
# Between polls (Azure may ask for a minute), the seconds still count: the
# operation's status answers 3 s late (a test-only slow fault), and the
# line is redrawn meanwhile, with the state it had.
progress_counts_between_polls() {
	local version
	version=$(policy_rotates) &&
		emu_api POST /faults '{"service": "arm", "method": "GET", "kind": "slow",
			"path_regex": "/operationStatuses/", "delay_ms": 3000, "count": 1}' >/dev/null &&
		on_a_terminal bind $LAB --key-version "$version" &&
		grep -q $'\r  bind the resource to the key: waiting for Azure (operation started), [2-9] s' \
			"$WORK/tty.out"
}
# With -v the log's lines go to stderr too: no redrawn line to glue them
# to, only the one at the end, on a line of its own.
progress_not_redrawn_among_log_lines() {
	local version
	version=$(policy_rotates) &&
		on_a_terminal -v bind $LAB --key-version "$version" &&
		has "$WORK/tty.out" 'info: http: PATCH ' &&
		! grep -q 'waiting for Azure' "$WORK/tty.out" &&
		has "$WORK/tty.out" $'^  bind the resource to the key: operation Succeeded after [0-9]+ s\r?$'
}

if command -v script >/dev/null && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	run progress-is-one-line-redrawn-on-a-terminal progress_redrawn_on_a_terminal
	run progress-counts-the-seconds-between-polls progress_counts_between_polls
	run progress-not-redrawn-among-log-lines progress_not_redrawn_among_log_lines
else
	skip_each "no script(1) to give a terminal" progress-is-one-line-redrawn-on-a-terminal \
		progress-counts-the-seconds-between-polls progress-not-redrawn-among-log-lines
fi

# ------------------------------------------------------ --version, --debug
version_is_configures() {
	local want
	want=$(sed -n 's/^PACKAGE_VERSION = //p' "$AZKV_TOP_BUILDDIR/Makefile")
	[ -n "$want" ] && expect 0 --version && stdout_is "azkv-cmk $want"
}
run version-is-configures-package-version version_is_configures

debug_is_verbose() {
	expect 0 status --vault labkv --key "$KEY" &&
		! has "$WORK/last.stderr" 'http: GET management.azure.com/' &&
		expect 0 --debug status --vault labkv --key "$KEY" &&
		has "$WORK/last.stderr" 'info: http: GET management.azure.com/subscriptions/.*/vaults/labkv status=200' &&
		grep -o 'http: [A-Z]* [^ ]*' "$WORK/last.stderr" >"$WORK/debug.requests" &&
		expect 0 -v status --vault labkv --key "$KEY" &&
		grep -o 'http: [A-Z]* [^ ]*' "$WORK/last.stderr" | cmp -s - "$WORK/debug.requests"
}
run debug-is-verbose debug_is_verbose

harness_summary
