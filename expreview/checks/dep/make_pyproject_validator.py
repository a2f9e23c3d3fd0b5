"""Generate expreview/checks/dep/pyproject_validator/, validate-pyproject's own "pre-compiled"
validator (`validate_pyproject.pre_compile`, the form setuptools vendors), for PEP 621 only (no
tool plugins, as DEP001 asks).

Why: building `validate_pyproject.api.Validator` compiles its JSON schema with fastjsonschema in
every process, about 45 ms, more than the rest of a small review's checks; the pre-compiled module
imports in about 4 ms. The files are the library's output, unedited; VERSION records the
validate-pyproject they came from, and tests/test_pyproject_validator.py regenerates them and compares.

    python -m expreview.checks.dep.make_pyproject_validator [--check]"""
from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from importlib import metadata
from pathlib import Path

OUTPUT = Path(__file__).with_name("pyproject_validator")
VERSION_FILE = "VERSION"


def generate(target: Path) -> None:
    from validate_pyproject.pre_compile import pre_compile

    target.mkdir(parents=True, exist_ok=True)
    pre_compile(target, plugins=[], original_cmd="python -m expreview.checks.dep.make_pyproject_validator")
    (target / VERSION_FILE).write_text(f"validate-pyproject {metadata.version('validate-pyproject')}\n",
                                       encoding="utf-8")


def differences(a: Path, b: Path) -> list[str]:
    names = sorted({p.name for p in a.iterdir() if p.is_file()} | {p.name for p in b.iterdir() if p.is_file()})
    return [n for n in names if not ((a / n).is_file() and (b / n).is_file() and filecmp.cmp(a / n, b / n, False))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the pre-compiled pyproject.toml validator.")
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped files would differ")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            differ = differences(Path(tmp), OUTPUT)
        print(f"{OUTPUT}: {'differs: ' + ', '.join(differ) if differ else 'up to date'}", file=sys.stderr)
        return 1 if differ else 0
    generate(OUTPUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
