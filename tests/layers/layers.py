#!/usr/bin/python3
"""Fails when two of the module's source files (pkcs11/) call each other,
directly or through others: the layers (entry files, mechanism families,
object kinds, the state below them) call only downwards. Read from the
symbols each object file of the module's library defines and uses."""
import subprocess
import sys


def objects(archive):
    """{source file: (symbols it defines, symbols it uses)} for each member
    of the module's convenience library (libtool names a member of a target
    with flags of its own TARGET_la-FILE.o)."""
    out = subprocess.run(["nm", archive], capture_output=True, text=True, check=True).stdout
    table, member = {}, None
    for line in out.splitlines():
        if line.endswith(".o:"):
            # The module's own files; the core's (src/) are below them all.
            member = None
            if line.startswith("libazkvp11_la-"):
                member = line[len("libazkvp11_la-"):-3] + ".c"
                table[member] = (set(), set())
            continue
        parts = line.split()
        if member is None or not parts:
            continue
        if len(parts) == 2 and parts[0] == "U":
            table[member][1].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRC":
            table[member][0].add(parts[2])
    return table


def cycles(graph):
    """Tarjan: the strongly connected components of more than one file."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    archive = sys.argv[1] if len(sys.argv) > 1 else ".libs/libazkvp11.a"
    table = objects(archive)
    if not table:
        print("layers: no object files in %s" % archive)
        return 1
    owner = {}
    for name, (defined, _used) in table.items():
        for sym in defined:
            owner[sym] = name
    graph = {name: set() for name in table}
    why = {}
    for name, (_defined, used) in table.items():
        for sym in used:
            dst = owner.get(sym)
            if dst and dst != name:
                graph[name].add(dst)
                why.setdefault((name, dst), sym)
    bad = 0
    for comp in cycles(graph):
        bad = 1
        print("layers: call cycle between " + ", ".join(comp))
        for a in comp:
            for b in comp:
                if (a, b) in why:
                    print("  %s -> %s (%s)" % (a, b, why[(a, b)]))
    print("layers: %d files, %d calls between them%s" %
          (len(graph), sum(len(v) for v in graph.values()), "" if bad else ", no cycle"))
    return bad


sys.exit(main())
