# shellcheck shell=bash
# Comparison g of the bench (C_UnwrapKey vs the Azure SDK for JavaScript),
# sourced by tests/bench/run.sh once the emulator runs and the module's
# configuration is written; g itself runs against the emulator that
# run.sh starts with --localhost-vault bench (the SDK reaches the bench
# vault on https://localhost:PORT), in the same state directory.
#
# bench_js_setup MODE sets js_args, the bench driver's options for g, and
# exports what tests/bench/js-unwrap.mjs reads. MODE:
#   install    npm ci of the fidelity suite's lock file first if needed
#              (tests/fidelity/npm-ci.sh; `make bench`); fails without it,
#   installed  g only when those packages are already installed (`make
#              check`, which must not reach the network), else left out
#              with the reason,
#   no         g left out.
bench_js_setup() {
	js_args=()
	case $1 in
	install)
		"$AZKV_TOP_SRCDIR/tests/fidelity/npm-ci.sh" >&2 || return 1
		;;
	installed)
		if ! "$AZKV_TOP_SRCDIR/tests/fidelity/npm-ci.sh" --check 2>"$WORK/js-check.err"; then
			echo "# g. the JS SDK comparison: skipped: $(cat "$WORK/js-check.err")"
			return 0
		fi
		;;
	no)
		echo "# g. the JS SDK comparison: left out (--js-sdk no)"
		return 0
		;;
	*)
		echo "bench_js_setup: unknown mode $1" >&2
		return 1
		;;
	esac
	# How a Node user trusts an extra CA; where tests/fidelity/lib/fidelity.mjs
	# finds the emulator; the identity the module is configured with.
	export NODE_EXTRA_CA_CERTS=$EMU_CA FIDELITY_STATE_DIR=$EMU_STATE
	export BENCH_JS_MODULE_CONFIG=$AZKV_PKCS11_CONFIG
	# shellcheck disable=SC2034 # read by run.sh
	js_args=(--js-unwrap "$AZKV_TOP_SRCDIR/tests/bench/js-unwrap.mjs")
}
