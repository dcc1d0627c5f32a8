#!/bin/bash
# The man page azkv-pkcs11(5) (man/azkv-pkcs11.5.scd), as make built it:
# it renders without a single groff warning, every path in it was filled
# in, and it has an entry for every configuration key the parser accepts
# (src/config.c) and every mechanism the module offers
# (pkcs11/mech/mech.c), so that neither can change without the page.
set -u
HARNESS_NAME=docs-man
top=${AZKV_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${AZKV_TOP_BUILDDIR:-$top/build}
# shellcheck source=../harness.sh
. "$top/tests/harness.sh"

page=$build/man/azkv-pkcs11.5

# groff as man(1) runs it (tbl, the man macros), every warning on; -z
# formats without output, so only the warnings are printed.
renders_without_warnings() {
	groff -t -ww -mandoc -Tutf8 -z "$page" 2>"$WORK/groff.err" || return 1
	if [ -s "$WORK/groff.err" ]; then
		cat "$WORK/groff.err"
		return 1
	fi
}

# make replaced @sysconfdir@ and @pkcs11libdir@ with the configured paths.
paths_are_filled_in() {
	if grep -n '@[a-z_0-9]*@' "$page"; then
		echo "placeholders left in $page"
		return 1
	fi
	grep -q '/azkv-pkcs11/config\.json$' "$WORK/page.txt"
}

# The page as text, without hyphenation or bold, and the terms of its
# entries: the lines at the terms' indent (7 columns), split at commas.
groff -t -mandoc -Tutf8 -rHY=0 -P-cbou "$page" 2>/dev/null >"$WORK/page.txt"
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

run man-page-renders-without-groff-warnings renders_without_warnings
run man-page-paths-are-the-configured-ones paths_are_filled_in
run man-page-has-an-entry-for-every-config-key every_config_key_has_an_entry
run man-page-has-an-entry-for-every-mechanism every_mechanism_has_an_entry
run man-page-describes-every-credential-type every_credential_type_is_described
harness_summary
