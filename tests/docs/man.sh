#!/bin/bash
# The man pages azkv-pkcs11(5) and azkv-cmk(1) (man/*.scd), as make built
# them: each renders without a single groff warning and every path in it
# was filled in; azkv-pkcs11(5) has an entry for every configuration key
# the parser accepts (src/config.c) and every mechanism the module offers
# (pkcs11/mech/mech.c), and azkv-cmk(1) one for every command and option
# of tools/cmk/main.c, each command's naming every option it takes, and
# one for every environment variable it reads, so that none of these can
# change without the pages.
set -u
HARNESS_NAME=docs-man
top=${AZKV_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${AZKV_TOP_BUILDDIR:-$top/build}
# shellcheck source=../harness.sh
. "$top/tests/harness.sh"
# shellcheck source=cmk_options.sh
. "$top/tests/docs/cmk_options.sh"

page=$build/man/azkv-pkcs11.5
cmk_page=$build/man/azkv-cmk.1
key_versions_page=$build/man/azkv-key-versions.1

# groff as man(1) runs it (tbl, the man macros), every warning on; -z
# formats without output, so only the warnings are printed.
renders_without_warnings() {
	groff -t -ww -mandoc -Tutf8 -z "$1" 2>"$WORK/groff.err" || return 1
	if [ -s "$WORK/groff.err" ]; then
		cat "$WORK/groff.err"
		return 1
	fi
}

# make replaced @sysconfdir@ and @pkcs11libdir@ with the configured paths.
paths_are_filled_in() {
	if grep -n '@[a-z_0-9]*@' "$1"; then
		echo "placeholders left in $1"
		return 1
	fi
	grep -q '/azkv-pkcs11/config\.json$' "$2"
}

# A page as text, without hyphenation or bold.
as_text() {
	groff -t -mandoc -Tutf8 -rHY=0 -P-cbou "$1" 2>/dev/null
}

# The terms of the entries of azkv-pkcs11(5): the lines at the terms'
# indent (7 columns), split at commas.
as_text "$page" >"$WORK/page.txt"
awk '/^       [^ ]/ { sub(/^ +/, ""); n = split($0, t, /,/)
	for (i = 1; i <= n; i++) { gsub(/^ +| +$/, "", t[i]); if (t[i] != "") print t[i] } }' \
	"$WORK/page.txt" >"$WORK/terms"

# Every key of the configuration, qualified as the page writes it
# ("vaults[].url", "credential.tenant_id", "http.timeout_ms", "wrap"): the
# names of each keys[] list of config.c, under the section of the parse_*
# function that holds it, the credential keys of its cred_keys table, and
# credential.type. A function that is not in the table below fails the
# test rather than being left out.
config_keys() {
	awk -v macros="$(grep -h '^#define AZKV_CONFIG_[A-Z0-9_]*_KEY ' "$top/src/config.h")" '
	BEGIN {
		n = split(macros, m, "\n")
		for (i = 1; i <= n; i++) { split(m[i], f, /[ \t]+/); gsub(/"/, "", f[3]); value[f[2]] = f[3] }
		section["parse_config"] = ""; section["parse_vault"] = "vaults[]."
		section["parse_http"] = "http."; section["parse_retry"] = "retry."
		section["parse_log"] = "log."; section["parse_arm"] = "arm."
	}
	/^static azkv_rc parse_[a-z_]+\(/ { fn = $3; sub(/\(.*/, "", fn) }
	/static const char \*const keys\[\] = \{/ { inkeys = 1 }
	inkeys {
		if (!(fn in section)) { print "UNKNOWN-SECTION-OF-" fn; exit 1 }
		line = $0
		while (match(line, /"[^"]*"|AZKV_CONFIG_[A-Z0-9_]+_KEY/)) {
			tok = substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
			if (tok ~ /^"/) { gsub(/"/, "", tok) } else if (tok in value) { tok = value[tok] }
			else { print "UNDEFINED-" tok; exit 1 }
			print section[fn] tok
		}
		if ($0 ~ /NULL\}/) inkeys = 0
	}
	/cred_keys\[\] = \{/ { incred = 1 }
	incred && /^[ \t]*\{"[a-z_]+",/ { match($0, /"[a-z_]+"/); print "credential." substr($0, RSTART + 1, RLENGTH - 2) }
	incred && /^\};/ { incred = 0 }
	/GetObjectItemCaseSensitive\(obj, "type"\)/ { print "credential.type" }
	' "$top/src/config.c" | sort -u
}

# Each of want (one per line) is the term of an entry of the page (or of
# the terms given); at least min of them, so that a grep that matched
# nothing fails.
every_one_has_an_entry() {
	local want=$1 min=$2 terms=${3:-$WORK/terms} missing
	echo "$(wc -l <"$want") names, from $want:"
	sed 's/^/  /' "$want"
	if [ "$(wc -l <"$want")" -lt "$min" ]; then
		echo "fewer than $min: the extraction no longer matches the source"
		return 1
	fi
	missing=$(grep -vxF -f "$terms" "$want")
	if [ -n "$missing" ]; then
		echo "not an entry of the page:"
		echo "$missing"
		return 1
	fi
}

every_config_key_has_an_entry() {
	config_keys >"$WORK/config-keys" || { cat "$WORK/config-keys"; return 1; }
	grep -q '^UNKNOWN-\|^UNDEFINED-' "$WORK/config-keys" && { cat "$WORK/config-keys"; return 1; }
	every_one_has_an_entry "$WORK/config-keys" 45
}

# Each credential type of config.c's table of names is described.
every_credential_type_is_described() {
	sed -n 's/^[ \t]*\[AZKV_CRED_[A-Z_]*\] = "\([a-z_]*\)",$/\1/p' "$top/src/config.c" \
		>"$WORK/types"
	awk '/^           [^ ]/ { sub(/^ +/, ""); n = split($0, t, /,/)
		for (i = 1; i <= n; i++) { gsub(/^ +| +$/, "", t[i]); print t[i] } }' \
		"$WORK/page.txt" >"$WORK/type-terms"
	every_one_has_an_entry "$WORK/types" 7 "$WORK/type-terms"
}

every_mechanism_has_an_entry() {
	grep -o 'CKM_[A-Z0-9_]*' "$top/pkcs11/mech/mech.c" | sort -u >"$WORK/mechanisms"
	every_one_has_an_entry "$WORK/mechanisms" 40
}

# azkv-cmk(1): the section SECTION of the page as text, its entries one
# a line: the term (7 columns in), a tab, the entry's text (deeper in).
as_text "$cmk_page" >"$WORK/cmk.txt"
cmk_entries() {
	awk -v section="$1" '
	/^[^ ]/ { insection = $0 == section; next }
	!insection || /^ *$/ { next }
	/^       [^ ]/ { if (term != "") print term "\t" text; term = substr($0, 8); text = ""; next }
	/^   [^ ]/ { next }
	{ text = text " " $0 }
	END { if (term != "") print term "\t" text }' "$WORK/cmk.txt"
}

every_command_has_an_entry() {
	cmk_table commands >"$WORK/commands"
	at_least 13 "$WORK/commands" || return 1
	cmk_entries COMMANDS | awk '{ print $1 }' >"$WORK/command-terms"
	every_one_has_an_entry "$WORK/commands" 13 "$WORK/command-terms"
}

# Every long option is the term (or one of the comma-separated terms) of
# an entry of OPTIONS, as --NAME.
every_option_has_an_entry() {
	cmk_table long | sed 's/^/--/' >"$WORK/options"
	at_least 40 "$WORK/options" || return 1
	cmk_entries OPTIONS | cut -f1 | tr ',' '\n' | awk '{ print $1 }' >"$WORK/option-terms"
	every_one_has_an_entry "$WORK/options" 40 "$WORK/option-terms"
}

# Each command's entry (its synopsis) names each option the command takes
# beyond the common ones.
each_command_names_its_options() {
	cmk_table pairs >"$WORK/pairs"
	at_least 60 "$WORK/pairs" || return 1
	cmk_entries COMMANDS | awk -F '\t' '
	NR == FNR { split($1, t, " "); text[t[1]] = " " $2 " "; gsub(/[^a-z0-9-]/, " ", text[t[1]]); next }
	{ split($0, p, " ") }
	!((p[1] in text) && index(text[p[1]], " --" p[2] " ")) { print p[1] " does not name --" p[2]; bad = 1 }
	END { exit bad }' - "$WORK/pairs"
}

# Every environment variable azkv-cmk reads, itself or through the core
# (src/, all linked into it), is an entry of ENVIRONMENT: the names given
# to getenv, secure_getenv and the files' env_value/nonempty_env, as a
# string or a macro of the same file, and config.c's table of HTTP
# overrides ({"NAME", offsetof(...)}). A name that cannot be resolved fails.
cmk_environment() {
	awk '
	FNR == 1 { delete def }
	/^#define [A-Z_]+ +"[A-Z][A-Z0-9_]*"/ { v = $3; gsub(/"/, "", v); def[$2] = v }
	{
		line = $0
		while (match(line, /(getenv|env_value|nonempty_env)\([A-Z_"]+\)/)) {
			arg = substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
			sub(/^[a-z_]+\(/, "", arg); sub(/\)$/, "", arg)
			if (arg ~ /^"/) { gsub(/"/, "", arg); print arg }
			else if (arg in def) print def[arg]
			else print "UNDEFINED-" arg "-IN-" FILENAME
		}
	}
	/^[ \t]*\{"[A-Z][A-Z0-9_]+", offsetof\(/ { match($0, /"[A-Z0-9_]+"/); print substr($0, RSTART + 1, RLENGTH - 2) }
	' "$top"/src/*.c "$top"/tools/cmk/*.c | sort -u
}

every_environment_variable_has_an_entry() {
	cmk_environment >"$WORK/environment"
	at_least 18 "$WORK/environment" || return 1
	cmk_entries ENVIRONMENT | cut -f1 | tr ',' '\n' | awk '{ print $1 }' >"$WORK/environment-terms"
	every_one_has_an_entry "$WORK/environment" 18 "$WORK/environment-terms"
}

run man-page-renders-without-groff-warnings renders_without_warnings "$page"
run man-page-paths-are-the-configured-ones paths_are_filled_in "$page" "$WORK/page.txt"
run man-page-has-an-entry-for-every-config-key every_config_key_has_an_entry
run man-page-has-an-entry-for-every-mechanism every_mechanism_has_an_entry
run man-page-describes-every-credential-type every_credential_type_is_described
run cmk-man-page-renders-without-groff-warnings renders_without_warnings "$cmk_page"
run cmk-man-page-paths-are-the-configured-ones paths_are_filled_in "$cmk_page" "$WORK/cmk.txt"
run cmk-man-page-has-an-entry-for-every-command every_command_has_an_entry
run cmk-man-page-has-an-entry-for-every-option every_option_has_an_entry
run cmk-man-page-command-entries-name-their-options each_command_names_its_options
run cmk-man-page-has-an-entry-for-every-environment-variable every_environment_variable_has_an_entry
# azkv-key-versions(1): its paths filled in, and an entry for each option
# of the program's usage line.
key_versions_options_have_entries() {
	local usage opts opt
	! grep -n '@[a-z_0-9]*@' "$key_versions_page" || return 1
	usage=$(grep -o '"usage: azkv-key-versions [^"]*' "$top/tools/azkv-key-versions.c")
	opts=$(printf '%s\n' "$usage" | grep -o -- '--[a-z-]*')
	[ "$(printf '%s\n' "$opts" | wc -l)" -ge 2 ] || {
		echo "found too few options in the usage line: $usage"
		return 1
	}
	as_text "$key_versions_page" >"$WORK/key-versions.txt"
	for opt in $opts; do
		grep -q -- "^ *$opt\b" "$WORK/key-versions.txt" || {
			echo "no entry for $opt in azkv-key-versions(1)"
			return 1
		}
	done
}
run key-versions-man-page-renders-without-groff-warnings renders_without_warnings "$key_versions_page"
run key-versions-man-page-has-an-entry-for-every-option key_versions_options_have_entries
harness_summary
