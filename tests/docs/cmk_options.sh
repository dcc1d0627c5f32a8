# shellcheck shell=bash
# azkv-cmk's command line as tools/cmk/main.c defines it, read from its
# source for the tests that keep the man page (man.sh) and the bash
# completion (completion.sh) in step with it. Sourced; needs $top.
#   cmk_table commands   the names of the commands table, in order
#   cmk_table pairs      "COMMAND OPTION" for each option a command takes
#                        beyond the common ones: its list, and dry-run
#                        when it changes something
#   cmk_table long       every long option of long_opts
#   cmk_table values     the long options that take a value
#   cmk_table common     the options every command takes (is_common)
# A list the commands table names that is not defined prints
# UNDEFINED-LIST-name, which the callers' checks then fail on.
cmk_table() {
	awk -v mode="$1" '
	function strings(s, out) {
		while (match(s, /"[^"]*"/)) {
			out = out " " substr(s, RSTART + 1, RLENGTH - 2)
			s = substr(s, RSTART + RLENGTH)
		}
		return out
	}
	/^[ \t]*static const char \*const [a-z_]+\[\] = \{/ {
		list = $0; sub(/\[\].*/, "", list); sub(/.*[ *]/, "", list)
		s = $0; sub(/^[^{]*\{/, "", s); lists[list] = strings(s)
		inlist = $0 !~ /\};/
		next
	}
	inlist { lists[list] = lists[list] strings($0); if ($0 ~ /\};/) inlist = 0; next }
	/ long_opts\[\] = \{/ { inlong = 1; next }
	inlong && /^\};/ { inlong = 0 }
	inlong && /^[ \t]*\{"/ {
		match($0, /"[^"]*"/); name = substr($0, RSTART + 1, RLENGTH - 2)
		if (mode == "long" || (mode == "values" && /required_argument/)) print name
	}
	/ commands\[\] = \{/ { incmd = 1; next }
	incmd && /^\};/ { incmd = 0 }
	incmd && /^[ \t]*\{"[a-z-]+", *cmk_cmd_[a-z_]+, *[01], *[a-z_]+\},/ {
		row = $0; gsub(/[{}" \t]/, "", row); split(row, f, ",")
		n++; cmd[n] = f[1]; mutating[n] = f[3]; optlist[n] = f[4]
	}
	END {
		if (mode == "common") { k = split(lists["common"], o, " "); for (j = 1; j <= k; j++) print o[j] }
		for (i = 1; i <= n; i++) {
			if (mode == "commands") print cmd[i]
			if (mode != "pairs") continue
			if (!(optlist[i] in lists)) { print "UNDEFINED-LIST-" optlist[i]; continue }
			k = split(lists[optlist[i]], o, " ")
			for (j = 1; j <= k; j++) print cmd[i] " " o[j]
			if (mutating[i]) print cmd[i] " dry-run"
		}
	}' "${top:?}/tools/cmk/main.c"
}

# at_least MIN FILE: FILE, an extraction, has MIN lines or more; else the
# extraction no longer matches the source, and the test says so.
at_least() {
	local n
	n=$(wc -l <"$2")
	if [ "$n" -lt "$1" ] || grep -q '^UNDEFINED-' "$2"; then
		echo "$2: $n lines, fewer than $1 or one undefined: the extraction no longer matches"
		echo "tools/cmk/main.c; it found:"
		cat "$2"
		return 1
	fi
}
