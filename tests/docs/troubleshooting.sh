#!/bin/bash
# docs/troubleshooting.md has an entry for every error and warning the
# module and the tools can print, for every exit code of azkv-cmk, and for
# every Entra (AADSTS...), Key Vault (AKV...) and Azure error code the code
# or the emulator knows, so that none of them can be added without the doc.
#
# The messages are read from the source:
#   - the format of each azkv_error, azkv_warn and azkv_log(AZKV_LOG_ERROR
#     or _WARN, ...) call in src/, pkcs11/ and tools/;
#   - the format of each cmk_fail and usage_error call of azkv-cmk, and of
#     the snprintf(msg, ...) that makes a usage_error's message in main.c;
#     cmk_fail_err prints "<what>: <the core's message>", whatever its what;
#   - the first line of each fprintf(stderr, ...) of tools/ (azkv-envelope,
#     azkv-key-versions, azkv-cmk's own);
#   - the reasons a failure carries into those lines: the format of each
#     azkv_err_set, and of cfg_err in src/config.c as "config %s: FORMAT".
# Adjacent string literals and string macros (#define FN "...") of the same
# file or of a header it includes from its directory make one format; a format that is anything else fails the test, as do
# fewer calls than a floor per kind (so that a change of the logging calls
# cannot leave the test checking nothing).
#
# The matching rule (docs/troubleshooting.md says it too): a message has an
# entry when a line of a fenced code block of the doc is the message, after
# an optional leading "azkv-cmk: error: ", where each conversion (%s, %lu,
# %.*s, %m, ...), or a run of adjacent ones, is written as one or more
# placeholders <any words>. A message made only of conversions is not
# checked. A missing one is printed as file:line and the message, with
# <...> for each conversion, ready to paste into the doc.
set -u
HARNESS_NAME=docs-troubleshooting
top=${AZKV_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../harness.sh
. "$top/tests/harness.sh"

doc=${AZKV_TROUBLESHOOTING_DOC:-$top/docs/troubleshooting.md}

cat >"$WORK/check.py" <<'PY'
import glob, os, re, sys

top, doc, mode = sys.argv[1], sys.argv[2], sys.argv[3]
CORE = ["src/*.c", "pkcs11/*.c", "pkcs11/*/*.c", "tools/*.c", "tools/cmk/*.c"]
CMK = ["tools/cmk/*.c"]
# (files, function, index of its format argument, kind for the floors)
CALLS = [
    (CORE, "azkv_error", 0, "log"), (CORE, "azkv_warn", 0, "log"), (CORE, "azkv_log", 1, "log"),
    (CMK, "cmk_fail", 3, "cmk"), (CMK, "cmk_fail_err", 3, "cmk"), (CMK, "usage_error", 0, "cmk"),
    (["tools/cmk/main.c"], "snprintf", 2, "cmk"), (["tools/*.c", "tools/cmk/*.c"], "fprintf", 1, "tool"),
    (CORE, "azkv_err_set", 2, "reason"), (["src/config.c"], "cfg_err", 1, "reason"),
]
FLOORS = {"log": 150, "cmk": 100, "tool": 15, "reason": 180}
CONV = r"%[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcspm]"
ESC = {"n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\"}


def call_args(text, i):
    """The arguments of the call whose "(" is at text[i], as source text."""
    depth, args, cur, j = 0, [], [], i
    while j < len(text):
        ch = text[j]
        if ch in "\"'":
            k = j + 1
            while text[k] != ch:
                k += 2 if text[k] == "\\" else 1
            cur.append(text[j:k + 1])
            j = k + 1
            continue
        if text.startswith("/*", j):
            j = text.index("*/", j) + 2
            continue
        if ch in "([{":
            depth += 1
            if depth == 1:
                j += 1
                continue
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args
        elif ch == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            j += 1
            continue
        cur.append(ch)
        j += 1
    raise SystemExit("unterminated call at offset %d" % i)


def literal(arg, macros):
    """The argument's string when it is string literals and macros of them, else None."""
    out = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*)|(\S)', arg):
        if m.group(1) is not None:
            out.append(re.sub(r"\\(.)", lambda e: ESC.get(e.group(1), e.group(1)), m.group(1)))
        elif m.group(2) in macros:
            out.append(macros[m.group(2)])
        else:
            return None
    return "".join(out)


def messages():
    found, problems, counts = [], [], {k: 0 for k in FLOORS}
    for patterns, fn, idx, kind in CALLS:
        for path in sorted({f for p in patterns for f in glob.glob(os.path.join(top, p))}):
            text = open(path, encoding="utf-8").read()
            # String macros of the file and of the headers it includes from its directory.
            macros = {}
            for h in re.findall(r'^#include "([^"]+)"', text, re.M) + [os.path.basename(path)]:
                if os.path.exists(os.path.join(os.path.dirname(path), h)):
                    macros.update(re.findall(r'^#define (\w+)\s+"([^"\\]*)"\s*$',
                                             open(os.path.join(os.path.dirname(path), h), encoding="utf-8").read(), re.M))
            rel = os.path.relpath(path, top)
            for m in re.finditer(r"(?<![\w.>])" + fn + r"\s*\(", text):
                before = text[text.rfind("\n", 0, m.start()) + 1:m.start()]
                if re.search(r"^\s*(static|int|void|__attribute__|#|\*|/)|^(?!return )\w+ \**$", before):
                    continue  # its definition, or a comment
                args = call_args(text, m.end() - 1)
                if (fn == "fprintf" and args[0] != "stderr") or (fn == "snprintf" and args[0] != "msg") \
                        or (fn == "azkv_log" and args[0] not in ("AZKV_LOG_ERROR", "AZKV_LOG_WARN")):
                    continue
                where = "%s:%d" % (rel, text.count("\n", 0, m.start()) + 1)
                counts[kind] += 1
                arg = args[idx] if idx < len(args) else ""
                fmt = "%s: %s" if fn == "cmk_fail_err" else literal(arg, macros)
                if fn == "cfg_err" and fmt is not None:
                    fmt = "config %s: " + fmt  # as cfg_err prints it
                if fmt is None:
                    if fn == "usage_error" and arg == "msg":
                        continue  # made by a snprintf(msg, ...), read above
                    problems.append("%s: the format of %s is not a string literal: %s" % (where, fn, arg))
                    continue
                if fn == "fprintf":
                    fmt = fmt.split("\n")[0]
                fmt = fmt.rstrip()
                if re.sub(CONV, "", fmt.replace("%%", "%")).strip():
                    found.append((where, fmt))
    return found, problems, counts


def pattern(fmt):
    """A regex of the message's line in the doc: a placeholder <...> for each run of conversions."""
    out, pos = [], 0
    for c in re.finditer(r"%%|(?:" + CONV + r")+", fmt):
        out.append(re.escape(fmt[pos:c.start()]))
        out.append(re.escape("%") if c.group() == "%%" else r"(?:<[^<>]+>)+")
        pos = c.end()
    out.append(re.escape(fmt[pos:]))
    return re.compile("".join(out))


def readable(fmt):
    return re.sub(r"(?:" + CONV + r")+", "<...>", fmt.replace("%%", "\0")).replace("\0", "%")


def doc_lines():
    lines, fenced = [], False
    for line in open(doc, encoding="utf-8"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced:
            line = line.strip()
            lines.append(line)
            if line.startswith("azkv-cmk: error: "):
                lines.append(line[len("azkv-cmk: error: "):])
    return lines


def check_messages():
    found, problems, counts = messages()
    print("%d messages from %s calls" % (len(found), counts))
    bad = False
    for p in problems:
        print(p)
        bad = True
    for kind, floor in FLOORS.items():
        if counts[kind] < floor:
            print("only %d %s calls, fewer than %d: the extraction no longer matches the source" %
                  (counts[kind], kind, floor))
            bad = True
    lines, missing = doc_lines(), []
    for where, fmt in found:
        rx = pattern(fmt)
        if not any(rx.fullmatch(line) for line in lines):
            missing.append("%s: %s" % (where, readable(fmt)))
    if missing:
        print("%d messages have no entry in %s (a line of a fenced block):" % (len(missing), doc))
        print("\n".join(missing))
    return bad or bool(missing)


def emulator_files():
    return sorted(glob.glob(os.path.join(top, "tests/emulator/azkvemu/*.py")))


def codes(kind):
    """The codes of one kind the source and the emulator know, as the doc writes them."""
    found = set()
    for path in [f for p in CORE for f in glob.glob(os.path.join(top, p))] + emulator_files():
        text = open(path, encoding="utf-8").read()
        if kind == "AADSTS":
            found |= {"AADSTS" + c for c in re.findall(r"AADSTS(\d{4,})", text)}
            # Entra's answers in the emulator: _error(req, status, "error", CODE, ...)
            # and Refusal(status, "error", CODE, ...).
            found |= {"AADSTS" + c for c in re.findall(
                r'(?:_error\(\s*req,|Refusal\()\s*[\w.]+,\s*"?[\w.]+"?,\s*(\d{4,})', text)}
        elif kind == "AKV":
            found |= set(re.findall(r"AKV\d{5}", text))
        elif path.endswith(".py"):
            # Key Vault's and ARM's {"error":{"code":...}}: ServiceError(status, "Code", ...).
            found |= set(re.findall(r'ServiceError\(\s*\d+,\s*"([A-Za-z]\w+)"', text))
    return sorted(found)


def check_codes(kind, floor):
    want = codes(kind)
    print("%d %s codes: %s" % (len(want), kind, " ".join(want)))
    if len(want) < floor:
        print("fewer than %d: the extraction no longer matches the source" % floor)
        return True
    text = open(doc, encoding="utf-8").read()
    missing = [c for c in want if not re.search(r"`%s`" % re.escape(c) if kind == "azure" else
                                                 r"\b%s\b" % re.escape(c), text)]
    if missing:
        print("not in %s:" % doc)
        print("\n".join(missing))
    return bool(missing)


def check_exit_codes():
    text = open(os.path.join(top, "tools/cmk/cmk.h"), encoding="utf-8").read()
    want = re.findall(r"^\s*(CMK_EXIT_\w+) = (\d+),", text, re.M)
    print("exit codes: %s" % want)
    if len(want) < 8:
        print("fewer than 8: the extraction no longer matches tools/cmk/cmk.h")
        return True
    rows = re.findall(r"^\| *(\d+) *\|", open(doc, encoding="utf-8").read(), re.M)
    missing = ["%s %s" % (n, name) for name, n in want if n not in rows]
    if missing:
        print("no row \"| N | ...\" in %s for: %s" % (doc, ", ".join(missing)))
    return bool(missing)


bad = {"messages": check_messages, "exit-codes": check_exit_codes,
       "aadsts": lambda: check_codes("AADSTS", 15), "akv": lambda: check_codes("AKV", 5),
       "azure": lambda: check_codes("azure", 20)}[mode]()
sys.exit(1 if bad else 0)
PY

check() {
	python3 "$WORK/check.py" "$top" "$doc" "$1"
}

run troubleshooting-has-an-entry-for-every-message check messages
run troubleshooting-has-an-entry-for-every-cmk-exit-code check exit-codes
run troubleshooting-has-an-entry-for-every-aadsts-code check aadsts
run troubleshooting-has-an-entry-for-every-akv-code check akv
run troubleshooting-has-an-entry-for-every-azure-error-code check azure
harness_summary
