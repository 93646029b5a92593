#!/usr/bin/env python3
"""Checks that every relative link in the Markdown docs points at a file that exists and, with #anchor, a heading in it."""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
pages = [root / "README.md", root / "SECURITY.md", root / "bench" / "README.md", *sorted((root / "docs").glob("*.md"))]

def anchors(path):
    slugs = set()
    for line in path.read_text().splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            text = re.sub(r"[`*_]", "", m.group(1)).strip().lower()
            slugs.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return slugs

broken = []
for page in pages:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(f"{page.relative_to(root)}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{page.relative_to(root)}: {target} (no such heading)")
for line in broken:
    print(line)
sys.exit(1 if broken else 0)
