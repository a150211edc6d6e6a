"""Extract the recorded bus messages and their expected metadata from fedmsg_meta's tests.

The tests of ``fedmsg_meta_fedora_infrastructure`` hold real messages from Fedora's bus, each
in a test class with the usernames, packages, subtitle and link that Fedora's own processors
were expected to find. This reads those modules as data (``ast``, never importing or running
them) and writes one JSON-lines file per service into ``tests/messages/corpus/``, and the
IRC nicks and e-mail addresses the tests gave FAS (their mocked ``fasshim._fas_cache``) into
``tests/messages/directory.json``: without them some expected usernames cannot be found.

    python tests/messages/extract.py            # downloads the sdist with pip
    python tests/messages/extract.py --source DIR   # an unpacked sdist or a git checkout
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

SDIST = "fedmsg_meta_fedora_infrastructure==0.31.0"
OUT = Path(__file__).parent / "corpus"
DIRECTORY = Path(__file__).parent / "directory.json"
FIELDS = {"expected_usernames": "usernames", "expected_packages": "packages",
          "expected_subti": "subtitle", "expected_link": "link", "expected_icon": "icon"}


class NotData(ValueError):
    """An expression that is not plain data (a call, a computation we do not follow)."""


def evaluate(node: ast.AST, names: dict[str, Any]) -> Any:
    """Evaluate literal data, ``set([...])``, ``a + b`` and names bound to data."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        raise NotData(node.id)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [evaluate(e, names) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotData("**")
        return {evaluate(k, names): evaluate(v, names)  # type: ignore[arg-type]
                for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return evaluate(node.left, names) + evaluate(node.right, names)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in {"set", "frozenset", "list"} and not node.keywords
            and len(node.args) <= 1):
        return sorted(evaluate(node.args[0], names)) if node.args else []
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -evaluate(node.operand, names)
    raise NotData(ast.dump(node)[:60])


def module_cases(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The test classes of one module with a message: (cases, classes skipped as not data)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, Any] = {}
    classes: dict[str, dict[str, Any]] = {}
    cases, skipped = [], 0
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(NotData):  # a computed constant: classes using it skip
                names[node.targets[0].id] = evaluate(node.value, names)
        if not isinstance(node, ast.ClassDef):
            continue
        attrs: dict[str, Any] = {}
        for base in node.bases:
            if isinstance(base, ast.Name):
                attrs.update(classes.get(base.id, {}))
        broken = False
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], ast.Name):
                key = stmt.targets[0].id
                if key != "msg" and key not in FIELDS:
                    continue
                try:
                    attrs[key] = evaluate(stmt.value, names)
                except NotData:
                    broken = broken or key in {"msg", "expected_usernames",
                                               "expected_packages"}
        classes[node.name] = attrs
        if "msg" not in attrs or not ({"expected_usernames", "expected_packages"} & set(attrs)):
            continue
        if broken:
            skipped += 1
            continue
        expected = {FIELDS[k]: attrs[k] for k in FIELDS if k in attrs}
        cases.append({"envelope": attrs["msg"], "expected": expected,
                      "origin": f"fedmsg_meta_fedora_infrastructure/tests/{path.name}:"
                                f"{node.name}"})
    return cases, skipped


def fas_directory(base: Path) -> dict[str, dict[str, str]]:
    """The FAS cache the tests' ``setUp`` installs, split into IRC nicks and e-mail addresses.

    fasshim keeps both in one dict; an IRC nick cannot contain "@".
    """
    directory: dict[str, dict[str, str]] = {"nicks": {}, "emails": {}}
    for node in ast.walk(ast.parse(base.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Attribute) \
                and node.targets[0].attr == "_fas_cache":
            for alias, username in evaluate(node.value, {}).items():
                directory["emails" if "@" in alias else "nicks"][alias] = username
    if not directory["nicks"] and not directory["emails"]:
        sys.exit(f"{base}: no _fas_cache filled in")
    return directory


def find_tests(source: Path) -> Path:
    """The tests folder inside an unpacked sdist or a checkout."""
    for candidate in source.rglob("fedmsg_meta_fedora_infrastructure/tests"):
        if (candidate / "base.py").exists():
            return candidate
    sys.exit(f"{source}: no fedmsg_meta_fedora_infrastructure/tests folder")


def download(workdir: Path) -> Path:
    """Fetch and unpack the sdist (it ships the tests, the wheel does not)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", "--dest", str(workdir), SDIST], check=True)
    archive = next(workdir.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="unpacked sdist or git checkout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tests = find_tests(args.source or download(Path(tmp)))
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("*.jsonl"):
            old.unlink()
        total = skipped_total = 0
        for path in sorted(tests.glob("*.py")):
            cases, skipped = module_cases(path)
            skipped_total += skipped
            if not cases:
                continue
            total += len(cases)
            stem = "misc" if path.stem == "__init__" else path.stem
            with (OUT / f"{stem}.jsonl").open("w", encoding="utf-8") as out:
                for case in cases:
                    out.write(json.dumps(case, sort_keys=True) + "\n")
        directory = fas_directory(tests / "base.py")
        DIRECTORY.write_text(json.dumps(directory, indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
    sys.stdout.write(f"wrote {total} messages to {OUT} ({skipped_total} not plain data), "
                     f"{sum(map(len, directory.values()))} aliases to {DIRECTORY}\n")


if __name__ == "__main__":
    main()
