#!/bin/bash
# The Debian packages (debian/): built from a copy of the tree
# (scripts/deb.sh, dpkg-buildpackage -us -uc -b, nocheck: the suite runs
# the tests), lintian without errors, installed with dpkg -i into this
# machine, used there as a user would (p11-kit, pkcs11-tool, the proxy
# against the emulator, man, azkv-cmk, bash completion, the header), and
# removed and purged again. Needs root; it skips where it would disturb
# an installation of the module (the packages, make install, a
# config.json). Whatever fails, the EXIT trap purges what it installed.
#   AZKV_DEB_DIR=DIR  use the packages already built in DIR (make deb)
set -u
HARNESS_NAME=deb
top=${AZKV_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export AZKV_TOP_SRCDIR=$top
# shellcheck source=../harness.sh
. "$top/tests/harness.sh"
# shellcheck source=../emulator/emulator.sh
. "$top/tests/emulator/emulator.sh"

PACKAGES=(libazkv-pkcs11 azkv-cmk libazkv-pkcs11-dev)
AFTER_BUILD=(lintian-reports-no-errors packages-hold-their-files packages-install p11-kit-lists-module-unconfigured
	pkcs11-tool-loads-installed-module proxy-lists-vault-keys key-versions-sample-runs
	man-pages-found-and-render azkv-cmk-help-runs bash-completion-installed
	dev-package-compiles-extension-client remove-leaves-only-conffiles purge-leaves-nothing)
TESTS=(changelog-version-is-configures build-depends-are-configures packages-build "${AFTER_BUILD[@]}")
installed=0 installed_at=$SECONDS

# Not root, or not Debian, or this machine has the module already: every
# test is reported skipped, with the reason.
skip_all() {
	skip_each "$1" "${TESTS[@]}"
	harness_summary
	exit
}
[ "$(id -u)" -eq 0 ] || skip_all "needs root (dpkg -i); the README's test command runs as root"
for tool in dpkg-buildpackage lintian p11-kit pkcs11-tool man; do
	command -v "$tool" >/dev/null || skip_all "$tool not installed (scripts/install-deps.sh)"
done
TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
MODULE=/usr/lib/$TRIPLET/pkcs11/azkv-pkcs11.so
PROXY=/usr/lib/$TRIPLET/p11-kit-proxy.so
for p in "${PACKAGES[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$'; then
		skip_all "$p is installed here: not replacing it"
	fi
done
for f in "$MODULE" /usr/share/p11-kit/modules/azkv-pkcs11.module /etc/azkv-pkcs11; do
	[ -e "$f" ] && skip_all "$f exists (an installation of the module): not replacing it"
done

# dpkg ARGS...: dpkg, waiting (up to 60 s) while apt or dpkg elsewhere
# holds its lock.
dpkg_waiting() {
	local i
	for _ in $(seq 30); do
		dpkg "$@" >"$WORK/dpkg.out" 2>&1 && { cat "$WORK/dpkg.out"; return 0; }
		grep -q -i 'lock' "$WORK/dpkg.out" || break
		sleep 2
	done
	cat "$WORK/dpkg.out"
	return 1
}

# Always purged at the end, whatever failed: the packages stay installed
# only while the tests below run.
deb_cleanup() {
	if [ "$installed" = 1 ]; then
		dpkg_waiting --purge "${PACKAGES[@]}" >/dev/null || echo "# could not purge: $(cat "$WORK/dpkg.out")"
	fi
	harness_cleanup
}
trap deb_cleanup EXIT
trap 'exit 130' INT TERM

# The module names p11-kit lists (it loads every one); its whole output
# in $WORK/p11kit.out.
p11kit_modules() {
	env -u AZKV_PKCS11_CONFIG p11-kit list-modules >"$WORK/p11kit.out" 2>"$WORK/p11kit.err"
	sed -n 's/^\([^ ].*\): .*/\1/p' "$WORK/p11kit.out" | sort
}

# ------------------------------------------------------------------ build
changelog_version_is_configures() {
	local deb conf
	deb=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version) || return 1
	conf=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
	if [ -z "$conf" ] || [ "$deb" != "$conf" ]; then
		echo "debian/changelog says $deb, configure.ac ${conf:-nothing}"
		return 1
	fi
}
run changelog-version-is-configures changelog_version_is_configures

# Each library configure.ac requires (AZKV_REQUIRE([VAR], [pc >= V],
# [package])) is a Build-Depends of debian/control with the same minimum.
build_depends_are_configures() {
	local want deps pkg ver n=0
	deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$top/debian/control")
	while read -r pkg ver; do
		n=$((n + 1))
		printf '%s\n' "$deps" | grep -qF "$pkg (>= $ver)" || {
			echo "debian/control: Build-Depends lacks \"$pkg (>= $ver)\" (configure.ac)"
			return 1
		}
	done < <(sed -n 's/^ *\[\?AZKV_REQUIRE(\[[A-Z0-9]*\], \[[^ ]* >= \([^]]*\)\], \[\([^]]*\)\]).*/\2 \1/p' \
		"$top/configure.ac")
	[ "$n" -ge 5 ] || {
		echo "found only $n AZKV_REQUIRE lines in configure.ac"
		return 1
	}
}
run build-depends-are-configures build_depends_are_configures

DEBS=${AZKV_DEB_DIR:-$WORK/debs}
build_packages() {
	[ -n "${AZKV_DEB_DIR:-}" ] && return 0
	local t0=$SECONDS
	DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" "$top/scripts/deb.sh" "$DEBS" || return 1
	echo "# built in $((SECONDS - t0)) s" | tee "$WORK/build-time"
}
run packages-build build_packages
[ -s "$WORK/build-time" ] && cat "$WORK/build-time"
deb_of() { # PACKAGE: its .deb in $DEBS, if there is one
	local f
	for f in "$DEBS/$1"_*.deb; do
		[ -e "$f" ] && echo "$f"
		return
	done
}
for p in "${PACKAGES[@]}"; do
	if [ -z "$(deb_of "$p")" ]; then
		skip_each "no $p package was built" "${AFTER_BUILD[@]}"
		harness_summary
		exit
	fi
done

# Errors fail; the tags are shown (warnings have their reason in debian/).
# A .changes that lintian skips (a .deb it names is missing) fails too.
lintian_no_errors() {
	local rc=0
	lintian --pedantic --fail-on error "$DEBS"/*.changes >"$WORK/lintian.out" 2>&1 || rc=$?
	cat "$WORK/lintian.out"
	[ "$rc" -eq 0 ] && ! grep -q -e '^E: ' -e '^Skipping' -e 'No packages selected' "$WORK/lintian.out"
}
run lintian-reports-no-errors lintian_no_errors
grep -E '^[EWIP]: ' "$WORK/lintian.out" | sed 's/^/# lintian: /'
echo "# lintian: $(grep -c '^E: ' "$WORK/lintian.out") errors, $(grep -c '^W: ' "$WORK/lintian.out") warnings"

# holds DEB PATH...: each path is in the package.
holds() {
	local deb=$1 f
	shift
	dpkg-deb -c "$deb" | awk '{ print $1, $NF }' >"$WORK/contents"
	for f in "$@"; do
		grep -q " \.$f$" "$WORK/contents" || {
			echo "$deb has no $f:"
			cat "$WORK/contents"
			return 1
		}
	done
}
packages_hold_their_files() {
	local lib cmk dev
	lib=$(deb_of libazkv-pkcs11) cmk=$(deb_of azkv-cmk) dev=$(deb_of libazkv-pkcs11-dev)
	holds "$lib" "$MODULE" /usr/share/p11-kit/modules/azkv-pkcs11.module \
		/etc/azkv-pkcs11/config.json.example /usr/share/man/man5/azkv-pkcs11.5.gz \
		/usr/bin/azkv-key-versions /usr/share/man/man1/azkv-key-versions.1.gz \
		/usr/share/doc/libazkv-pkcs11/cookbook.md.gz \
		/usr/share/doc/libazkv-pkcs11/troubleshooting.md.gz &&
		grep -q '^-rw-r----- ./etc/azkv-pkcs11/config.json.example$' "$WORK/contents" &&
		dpkg-deb -I "$lib" conffiles | grep -qx /etc/azkv-pkcs11/config.json.example &&
		holds "$cmk" /usr/bin/azkv-cmk /usr/share/man/man1/azkv-cmk.1.gz \
			/usr/share/bash-completion/completions/azkv-cmk &&
		holds "$dev" /usr/include/azkv/azkv-pkcs11.h "/usr/lib/$TRIPLET/pkgconfig/azkv-pkcs11.pc"
}
run packages-hold-their-files packages_hold_their_files

# ------------------------------------------------------------------ emulator
# Started before the install, which keeps the time the packages are
# installed short.
emu_start "$WORK/emulator" || exit 1
emu_api POST /vaults '{"name": "demo"}' >/dev/null &&
	APP=$(emu_api POST /identities '{"name": "app"}') &&
	emu_api PUT "/vaults/demo/access-policies/$(jq -r .client_id <<<"$APP")" \
		'{"keys": ["get", "list"]}' >/dev/null &&
	emu_api POST /vaults/demo/keys '{"name": "cmk", "kty": "RSA", "size": 2048}' >/dev/null &&
	emu_api POST /vaults/demo/keys '{"name": "signing", "kty": "EC", "crv": "P-256"}' >/dev/null ||
	exit 1
emu_write_config "$WORK/demo.json" "$APP" https://demo.vault.azure.net
chmod 600 "$WORK/demo.json"

# ------------------------------------------------------------------ install
p11kit_modules >"$WORK/modules-before"
# Containers often exclude /usr/share/man from every package
# (/etc/dpkg/dpkg.cfg.d/excludes); ours are let in, later patterns win.
install_packages() {
	installed=1 installed_at=$SECONDS
	# shellcheck disable=SC2046
	dpkg_waiting -i --path-include='/usr/share/man/man1/azkv-cmk.1.gz' \
		--path-include='/usr/share/man/man1/azkv-key-versions.1.gz' \
		--path-include='/usr/share/man/man5/azkv-pkcs11.5.gz' \
		$(for p in "${PACKAGES[@]}"; do deb_of "$p"; done)
}
run packages-install install_packages

# Registered and not configured: listed (loaded: its description shows),
# no error, the others as before.
p11kit_lists_module_unconfigured() {
	p11kit_modules >"$WORK/modules-after"
	cat "$WORK/p11kit.out" "$WORK/p11kit.err"
	grep -qx azkv-pkcs11 "$WORK/modules-after" || return 1
	grep -A1 -x "azkv-pkcs11: $MODULE" "$WORK/p11kit.out" |
		grep -q 'library-description: Azure Key Vault PKCS#11' || return 1
	grep -qiE 'error|fail|warn' "$WORK/p11kit.err" && return 1
	diff <(grep -vx azkv-pkcs11 "$WORK/modules-after") "$WORK/modules-before"
}
run p11-kit-lists-module-unconfigured p11kit_lists_module_unconfigured

# Loaded, initialised, no slots (pkcs11-tool then exits 1: "No slots.").
pkcs11_tool_loads_installed_module() {
	local out
	out=$(env -u AZKV_PKCS11_CONFIG pkcs11-tool --module "$MODULE" -L 2>&1)
	echo "$out"
	grep -qx "No slots." <<<"$out" && ! grep -qiE 'error|fail|CKR_' <<<"$out"
}
run pkcs11-tool-loads-installed-module pkcs11_tool_loads_installed_module

# Configured (AZKV_PKCS11_CONFIG) for the emulator's vault, the installed
# module, as p11-kit-proxy loads it, lists the vault's keys.
proxy_lists_vault_keys() {
	local out
	out=$(AZKV_PKCS11_CONFIG="$WORK/demo.json" pkcs11-tool --module "$PROXY" --token-label demo -O) || return 1
	echo "$out"
	grep -q "Public Key Object; RSA 2048" <<<"$out" && grep -q "label: *cmk" <<<"$out" &&
		grep -q "Public Key Object; EC" <<<"$out" && grep -q "label: *signing" <<<"$out"
}
run proxy-lists-vault-keys proxy_lists_vault_keys

key_versions_sample_runs() {
	local out
	out=$(AZKV_PKCS11_CONFIG="$WORK/demo.json" azkv-key-versions "$MODULE" cmk) || return 1
	echo "$out"
	grep -q "cmk" <<<"$out" && grep -q "https://demo.vault.azure.net/keys/cmk/" <<<"$out"
}
run key-versions-sample-runs key_versions_sample_runs

# man finds the pages in the installed packages and renders them, with no
# warning from groff.
man_pages_found_and_render() {
	local page
	man -w azkv-cmk | grep -qx /usr/share/man/man1/azkv-cmk.1.gz || return 1
	man -w 5 azkv-pkcs11 | grep -qx /usr/share/man/man5/azkv-pkcs11.5.gz || return 1
	man -w azkv-key-versions | grep -qx /usr/share/man/man1/azkv-key-versions.1.gz || return 1
	for page in "1 azkv-cmk" "5 azkv-pkcs11" "1 azkv-key-versions"; do
		# shellcheck disable=SC2086
		MANWIDTH=80 MANPAGER=cat man --warnings $page >"$WORK/man.out" 2>"$WORK/man.err" || return 1
		cat "$WORK/man.err"
		[ ! -s "$WORK/man.err" ] && grep -q "^NAME" "$WORK/man.out" &&
			grep -q "${page#* }" "$WORK/man.out" || return 1
	done
}
run man-pages-found-and-render man_pages_found_and_render

azkv_cmk_help_runs() {
	local out
	out=$(azkv-cmk --help) || return 1
	echo "$out"
	grep -q "rotate" <<<"$out" && grep -q "grant" <<<"$out"
}
run azkv-cmk-help-runs azkv_cmk_help_runs

# bash-completion loads it by the command's name: sourced, it completes
# azkv-cmk.
bash_completion_installed() {
	bash -c '. /usr/share/bash-completion/completions/azkv-cmk && complete -p azkv-cmk'
}
run bash-completion-installed bash_completion_installed

# The extension's sample builds against the installed header, as its
# comment says.
dev_package_compiles_extension_client() {
	# shellcheck disable=SC2046
	cc $(pkg-config --cflags azkv-pkcs11) -o "$WORK/azkv-key-versions" \
		"$top/tools/azkv-key-versions.c" -ldl && [ -x "$WORK/azkv-key-versions" ]
}
run dev-package-compiles-extension-client dev_package_compiles_extension_client

# ------------------------------------------------------------------ removal
# Removed: the module and its registration are gone, p11-kit lists what
# it did before; the conffile stays until the purge, which leaves nothing.
remove_leaves_only_conffiles() {
	dpkg_waiting -r "${PACKAGES[@]}" || return 1
	find "/usr/lib/$TRIPLET/pkcs11" -name 'azkv*' | grep . && return 1
	for f in /usr/share/p11-kit/modules/azkv-pkcs11.module /usr/bin/azkv-cmk /usr/include/azkv; do
		[ -e "$f" ] && { echo "$f left"; return 1; }
	done
	[ -e /etc/azkv-pkcs11/config.json.example ] || { echo "conffile removed before purge"; return 1; }
	p11kit_modules >"$WORK/modules-removed"
	diff "$WORK/modules-before" "$WORK/modules-removed"
}
run remove-leaves-only-conffiles remove_leaves_only_conffiles

purge_leaves_nothing() {
	dpkg_waiting --purge "${PACKAGES[@]}" || return 1
	installed=0
	[ -e /etc/azkv-pkcs11 ] && { echo "/etc/azkv-pkcs11 left"; return 1; }
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -v 'not-installed' && return 1
	done
	return 0
}
run purge-leaves-nothing purge_leaves_nothing
echo "# installed for $((SECONDS - installed_at)) s"

harness_summary
