#!/usr/bin/env python3
"""Module import cycles in plugin/src (or the folder given): reads the `use crate::…`,
`use super::…` and `use self::…` lines outside `mod tests`, and prints every strongly connected
component of more than one module. Exits 1 when there is a cycle."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
mods = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith(".rs"):
            continue
        path = os.path.join(d, f)
        rel = os.path.relpath(path, root)[:-3].split(os.sep)
        if rel[-1] in ("mod", "lib"):
            rel = rel[:-1]
        mods[tuple(rel)] = path
def resolve(me, is_mod_file, p):
    parts = p.split("::")
    base = list(me)
    if parts[0] == "crate":
        base, parts = [], parts[1:]
    elif parts[0] == "self":
        base, parts = list(me), parts[1:]
    while parts and parts[0] == "super":
        base, parts = base[:-1], parts[1:]
    cur = base
    best = tuple(base)
    for x in parts:
        cur = cur + [x]
        if tuple(cur) in mods:
            best = tuple(cur)
    return best
def expand(tree):
    """`a::{b, c::{d}}` -> [`a::b`, `a::c::d`] (only the paths, `as` names dropped)."""
    if "{" not in tree:
        return [tree.split(" as ")[0].removesuffix("::*")]
    head, rest = tree.split("{", 1)
    rest = rest[: rest.rindex("}")]
    parts, depth, cur = [], 0, ""
    for ch in rest:
        if ch == "," and depth == 0:
            parts.append(cur); cur = ""; continue
        depth += ch == "{"; depth -= ch == "}"; cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p:
            for e in expand(p):
                out.append((head + e) if e != "self" else head.removesuffix("::"))
    return out
edges = {m: set() for m in mods}
for m, path in mods.items():
    text = open(path).read()
    text = text.split("#[cfg(test)]\nmod tests")[0]
    is_mod = os.path.basename(path) in ("mod.rs", "lib.rs")
    for tree in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+((?:crate|super|self)[^;]*);", text, re.M | re.S):
      for u in expand(re.sub(r"\s+", "", tree)):
        t = resolve(m, is_mod, u)
        # a `use super::X` in a file names its parent module's item X; count the module it names
        if t != m and t in mods:
            edges[m].add(t)
# Tarjan
idx, low, st, on, out, n = {}, {}, [], set(), [], [0]
def sc(v):
    idx[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx:
            sc(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(comp)
sys.setrecursionlimit(10000)
for v in mods:
    if v not in idx: sc(v)
for c in out:
    print("cycle:", " <-> ".join("::".join(x) or "crate" for x in sorted(c)))
print(f"{len(mods)} modules, {sum(len(e) for e in edges.values())} edges, {len(out)} cycles")
sys.exit(1 if out else 0)
