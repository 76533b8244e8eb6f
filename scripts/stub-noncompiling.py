#!/usr/bin/env python3
"""Makes TorchSharp's native sources compile against a libtorch they were not written for, by stubbing what does not.

    stub-noncompiling.py --dir DIR --report FILE [--jobs N] [--note TEXT] -- CXX FLAGS...

Each DIR/*.cpp is checked with CXX FLAGS -fsyntax-only. In a file that fails, every function that holds an error is
given a body that records an error in TorchSharp's torch_last_err (the managed side raises it as an exception when the
function is called) and returns a default value; a function whose signature fails (a type that is gone) is removed, and
calling the missing export fails on the managed side. The rest of the file is kept. Checks and stubs repeat until every
file compiles (3 rounds of stubs at most). An error outside a function (a class, a header) cannot be stubbed: then it
stops with exit code 1 and prints the errors. FILE lists each function stubbed or removed, with its first error, one a
line (empty: none).

TorchSharp's sources follow one layout: a function definition starts at column 0 and its closing brace stands alone at
column 0; that is what this relies on.
"""
import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

SKIP = re.compile(r"^(#|//|/\*|\*|}|namespace\b|struct\b|class\b|typedef\b|using\b|extern\b|template\b|static_assert\b|enum\b)")


def check(cxx, path):
    p = subprocess.run(cxx + ["-fsyntax-only", path], capture_output=True, text=True)
    return path, p.returncode, p.stderr


def errors_in(path, stderr):
    """(line, message) for each error the compiler located in the file itself."""
    found = []
    for m in re.finditer(r"^(.*?):(\d+):\d+: error: (.*)$", stderr, re.M):
        if os.path.realpath(m.group(1)) == os.path.realpath(path):
            found.append((int(m.group(2)), m.group(3)))
    return found


def enclosing_function(lines, err):
    """(first, last) 0-based line indices of the function whose body holds line index err, or None."""
    start = err
    while start >= 0 and not (lines[start][:1].isalpha() or lines[start][:1] == "_"):
        if lines[start].startswith("}") and start != err:
            return None  # passed the end of an earlier definition: the error is not inside a function
        start -= 1
    if start < 0 or SKIP.match(lines[start]) or "(" not in "".join(lines[start:err + 1]):
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() == "}" or lines[i].startswith("};")), None)
    if end is None or not (start <= err <= end) or lines[end].startswith("};"):
        return None
    if any(lines[i][:1].isalpha() or lines[i][:1] == "_" for i in range(start + 1, end)):
        return None  # another definition starts before the closing brace: not the layout this relies on
    return start, end


def stub(lines, first, last, errors, note):
    """Replaces the body of the function at lines[first..last], or, where an error lies in its signature (a type that
    is gone), removes the function: calling a missing export fails on the managed side (EntryPointNotFoundException).
    Returns its name and what was done."""
    text = "".join(lines[first:last + 1])
    brace = text.index("{")
    signature = text[:brace]
    name = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", signature).group(1)
    if any(e <= first + signature.count("\n") for e in errors):
        lines[first:last + 1] = [f"// {name}: removed by stub-noncompiling.py, its signature does not compile\n"]
        return name, "removed"
    returns = signature[:signature.index(name)].strip()
    message = f"{name}: not available in this build: {note}".replace("\\", "\\\\").replace('"', '\\"')
    body = f"{{\n    torch_last_err = strdup(\"{message}\");\n    return{'' if returns in ('void', 'static void', 'inline void') else ' {}'};\n}}\n"
    lines[first:last + 1] = [signature.rstrip() + "\n", body]
    return name, "stubbed"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--note", default="TorchSharp's code for it does not compile against this libtorch")
    ap.add_argument("cxx", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cxx = [c for c in a.cxx if c != "--"]
    files = sorted(os.path.join(a.dir, f) for f in os.listdir(a.dir) if f.endswith(".cpp"))
    stubbed = []
    for round_ in range(4):
        with ThreadPoolExecutor(a.jobs) as pool:
            failed = [(p, err) for p, rc, err in pool.map(lambda f: check(cxx, f), files) if rc != 0]
        if not failed:
            break
        if round_ == 3:
            sys.exit(f"stub-noncompiling: still failing after 3 rounds: {', '.join(os.path.basename(p) for p, _ in failed)}")
        files = [p for p, _ in failed]
        for path, stderr in failed:
            errs = errors_in(path, stderr)
            lines = open(path).readlines()
            spans = {}
            for line, message in errs:
                span = enclosing_function(lines, line - 1)
                if span is None:
                    sys.stderr.write(stderr)
                    sys.exit(f"stub-noncompiling: {os.path.basename(path)}:{line}: error outside a function body, cannot stub: {message}")
                spans.setdefault(span, (message, []))[1].append(line - 1)
            if not spans:
                sys.stderr.write(stderr)
                sys.exit(f"stub-noncompiling: {os.path.basename(path)} fails in a header it includes, cannot stub")
            for (first, last), (message, at) in sorted(spans.items(), reverse=True):  # bottom up: earlier lines stay valid
                name, done = stub(lines, first, last, at, a.note)
                stubbed.append(f"{os.path.basename(path)}: {name}: {'' if done == 'stubbed' else 'removed (signature): '}{message}")
            open(path, "w").writelines(lines)
    with open(a.report, "w") as f:
        f.writelines(s + "\n" for s in sorted(stubbed))
    print(f"stub-noncompiling: {len(stubbed)} function(s) stubbed or removed" + "".join(f"\n  {s}" for s in sorted(stubbed)))


if __name__ == "__main__":
    main()
