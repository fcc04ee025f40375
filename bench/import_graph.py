"""python bench/import_graph.py [ROOT]: Count upward imports and import circles (module level and package level), every import statement
(also those inside functions). Layers: ser 0 < asr 1 < tts 2 < pipelines 3 < faces 4 (app, server, */__main__)."""
import ast, sys
from pathlib import Path
ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
PKGS = ["ser", "asr", "tts", "pipelines"]
def modname(p):
    rel = p.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__": parts = parts[:-1]
    return ".".join(parts)
files = [p for pkg in PKGS for p in (ROOT / pkg).glob("*.py")] + [ROOT / "app.py", ROOT / "server.py"]
files = [p for p in files if p.exists()]
mods = {modname(p): p for p in files}
def layer(m):
    top = m.split(".")[0]
    if m in ("app", "server") or m.endswith("__main__"): return 4
    return {"ser": 0, "asr": 1, "tts": 2, "pipelines": 3}[top]
edges = set()
for m, p in mods.items():
    pkg = m if p.name == "__init__.py" else m.rpartition(".")[0]
    for node in ast.walk(ast.parse(p.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            targets = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != m:
                edges.add((m, t))
# drop package-__init__ edges from a submodule to its own package (relative "from . import x")
edges = {(a, b) for a, b in edges if not (a.startswith(b + ".") )}
upward = sorted((a, b) for a, b in edges if layer(a) < layer(b))
def sccs(nodes, edges):
    graph = {n: [b for a, b in edges if a == n] for n in nodes}
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for n in nodes:
        if n not in index: visit(n)
    return out
def group(m):
    return m if layer(m) == 4 else m.split(".")[0]
pkg_edges = {(group(a), group(b)) for a, b in edges if group(a) != group(b)}
print("upward imports:", len(upward)); [print("  ", a, "->", b) for a, b in upward]
mc = sccs(sorted(mods), edges); print("module circles:", len(mc)); [print("  ", c) for c in mc]
pc = sccs(sorted({group(m) for m in mods}), pkg_edges); print("package circles:", len(pc)); [print("  ", c) for c in pc]
