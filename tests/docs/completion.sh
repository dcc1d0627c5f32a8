#!/bin/bash
# The bash completion of azkv-cmk (completions/azkv-cmk): its lists are
# tools/cmk/main.c's (the commands, each command's options, the common
# ones, those that take a value; read by tests/docs/cmk_options.sh, so
# an option added to main.c fails here until the completion has it), and
# sourced into this bash, _azkv_cmk completes what a user types.
set -u
HARNESS_NAME=docs-completion
top=${AZKV_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../harness.sh
. "$top/tests/harness.sh"
# shellcheck source=cmk_options.sh
. "$top/tests/docs/cmk_options.sh"
# shellcheck source=../../completions/azkv-cmk
. "$top/completions/azkv-cmk"

# same WHAT WANT GOT: the two lists (words, in any order) are equal.
same() {
	local want got
	want=$(tr ' ' '\n' <<<"$2" | grep . | sort | tr '\n' ' ')
	got=$(tr ' ' '\n' <<<"$3" | grep . | sort | tr '\n' ' ')
	if [ "$want" != "$got" ]; then
		echo "$1: want [$want], got [$got]"
		return 1
	fi
}

completes_every_command() {
	cmk_table commands >"$WORK/commands"
	at_least 13 "$WORK/commands" || return 1
	same commands "$(cat "$WORK/commands") help" "$_azkv_cmk_commands"
}

# Each command's own options, and --dry-run for those that change
# something (main.c's: want), are the completion's list for it (got).
completes_each_commands_options() {
	local cmd bad=0
	cmk_table pairs >"$WORK/pairs"
	at_least 60 "$WORK/pairs" || return 1
	while read -r cmd; do
		same "$cmd" "$(awk -v c="$cmd" '$1 == c { print "--" $2 }' "$WORK/pairs")" \
			"$(_azkv_cmk_options "$cmd")" || bad=1
	done <"$WORK/commands"
	return "$bad"
}

completes_the_common_options() {
	cmk_table common >"$WORK/common"
	at_least 8 "$WORK/common" || return 1
	same common "$(sed 's/^/--/' "$WORK/common")" "$_azkv_cmk_common"
}

# Those that take a value: the word after them is not the command.
knows_which_options_take_a_value() {
	cmk_table values >"$WORK/values"
	at_least 25 "$WORK/values" || return 1
	same values "$(sed 's/^/--/' "$WORK/values")" \
		"$(tr ' ' '\n' <<<"${_azkv_cmk_values//$'\n'/ }" | grep -e '^--')"
}

# completes LINE WANT...: completing LINE (words split at spaces; a line
# ending in a space completes a new, empty word) offers exactly WANT.
completes() {
	local line=$1
	shift
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_azkv_cmk
	same "'$line'" "$*" "${COMPREPLY[*]}"
}

completes_commands_and_subcommands() {
	completes "azkv-cmk " create-vault check grant bind rotate revoke status rotation-policy \
		create-key audit follow create-account create-hub help &&
		completes "azkv-cmk ch" check &&
		completes "azkv-cmk -g RG rot" rotate rotation-policy &&
		completes "azkv-cmk --vault check st" status &&
		completes "azkv-cmk rotation-policy " show set &&
		completes "azkv-cmk -q audit " status enable &&
		completes "azkv-cmk help create-" create-vault create-key create-account create-hub &&
		completes "azkv-cmk help p" projects permission-model &&
		completes "azkv-cmk audit status "
}

completes_options_by_command() {
	completes "azkv-cmk follow --no" --no-prove &&
		completes "azkv-cmk --account A follow --d" --debug --dry-run &&
		completes "azkv-cmk check --d" --debug &&
		completes "azkv-cmk check --dr" &&
		completes "azkv-cmk audit enable --s" --storage-account --subscription &&
		completes "azkv-cmk --ver" --version --verbose &&
		completes "azkv-cmk status --de" --debug &&
		completes "azkv-cmk create-key --s" --size --subscription
}

completes_values() {
	completes "azkv-cmk --cloud Azure" AzureCloud AzureChinaCloud AzureUSGovernment &&
		completes "azkv-cmk --cloud = AzureU" AzureUSGovernment &&
		completes "azkv-cmk grant --model " rbac access-policy &&
		completes "azkv-cmk check -o t" text table tsv &&
		completes "azkv-cmk --output " text json jsonc table tsv yaml none &&
		completes "azkv-cmk --query " &&
		completes "azkv-cmk create-vault --for " account hub &&
		completes "azkv-cmk bind --identity s" system &&
		completes "azkv-cmk create-key --rotate-after "
}

run completion-has-every-command completes_every_command
run completion-has-each-commands-options completes_each_commands_options
run completion-has-the-common-options completes_the_common_options
run completion-knows-which-options-take-a-value knows_which_options_take_a_value
run completion-completes-commands-and-subcommands completes_commands_and_subcommands
run completion-completes-each-commands-options completes_options_by_command
run completion-completes-option-values completes_values
harness_summary
