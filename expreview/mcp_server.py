"""`expreview mcp`: the review and the fixes as Model Context Protocol tools, served over stdio with
the official Python SDK (`pip install 'expreview[mcp]'`), for coding agents that repair generated
experiments.

Tools (their input and output JSON schemas come from the signatures and result types below):
- `review_directory(path, stage)`: review an experiment on disk, with its `[tool.expreview]`
  settings, as `expreview check PATH --format json` does;
- `review_files(files, stage, options)`: review files held in memory (path -> text);
- `fix_directory(path, stage, unsafe, apply)`: the fixes as a unified diff; written to disk only
  with `apply=true`;
- `fix_files(files, stage, unsafe)`: the fixed files (only those that changed) and the diff.

Every result has the report of what is (or, after fixing, is still) wrong. Bad input is a tool
error with expreview's one-line message, never a crash of the server. stdout is the protocol's, so
nothing else is ever printed there."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, TypedDict

from expreview.errors import ReviewError
from expreview.fixing import unified_diff
from expreview.jobs import Job, Result, job_for, review_one
from expreview.settings import Setting, resolve

INSTRUCTIONS = (
    "expreview reviews generated ML experiment code (train/evaluate/preprocess/model/main, pyproject.toml, "
    "YAML or Hydra configs) statically, in milliseconds: it never runs it. Review before spending a GPU run; "
    "error findings block, and each names the file, line and what to change. Prefer fix_* for findings that "
    "carry a fix: the edits are certain; look at the diff before applying unsafe ones.")


class Review(TypedDict):
    ready: bool
    stage: str
    errors: int
    warnings: int
    report: dict[str, Any]  # as `expreview check --format json` prints it


class FixOutcome(TypedDict):
    ready: bool
    applied: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    changed: list[str]
    diff: str
    written: bool
    files: dict[str, str]  # fix_files: the changed files' new text; fix_directory: empty
    report: dict[str, Any]  # what is left after fixing


def _review(report: Any) -> Review:
    return Review(ready=report.ready, stage=report.stage, errors=len(report.errors), warnings=len(report.warnings),
                  report=report.as_dict())


def _job(path: str, stage: str, fix: bool = False, unsafe: bool = False) -> Job:
    if not os.path.exists(path):
        raise ReviewError(f"{path}: no such file or directory")
    settings = resolve([path], None)
    if not (stage == "auto" and settings.stage.origin != "default"):
        settings.stage = Setting(stage, "the MCP call")
    return job_for(path, settings, fix=fix, unsafe_fixes=unsafe)


def _run(job: Job) -> Result:
    result = review_one(job)
    if result.error is not None or result.report is None:
        raise ReviewError(result.error or f"{job.path}: no report")
    return result


def review_directory(path: str, stage: str = "auto") -> Review:
    """Review the experiment at `path` (a directory, a JSON bundle or a logged prompt) with its
    [tool.expreview] settings. `stage`: auto, base, derived or hydra."""
    result = _run(_job(path, stage))
    assert result.report is not None
    return _review(result.report)


def review_files(files: dict[str, str], stage: str = "auto", options: Optional[dict[str, Any]] = None) -> Review:
    """Review files given as {path: text} (src/train.py, config/..., pyproject.toml)."""
    import expreview

    return _review(expreview.check(files, stage=stage, options=options))


def fix_directory(path: str, stage: str = "auto", unsafe: bool = False, apply: bool = False) -> FixOutcome:
    """The fixes for the experiment directory at `path` as a unified diff; with apply=true they are
    written to its files. unsafe=true adds the fixes a reader should check."""
    if not os.path.isdir(path):
        raise ReviewError(f"{path}: fix_directory takes a directory; use fix_files for files in memory")
    result = _run(_job(path, stage, fix=True, unsafe=unsafe))
    fixed = result.fixed
    assert fixed is not None
    if apply:
        for changed in fixed.changed:
            Path(path, changed).write_text(fixed.files[changed], encoding="utf-8")
    return FixOutcome(ready=fixed.report.ready, applied=[a.as_dict() for a in fixed.applied],
                      conflicts=[c.as_dict() for c in fixed.conflicts], changed=fixed.changed,
                      diff=unified_diff(result.original, fixed), written=apply and bool(fixed.changed), files={},
                      report=fixed.report.as_dict())


def fix_files(files: dict[str, str], stage: str = "auto", unsafe: bool = False) -> FixOutcome:
    """Fix files given as {path: text}; returns the changed files' new text and the diff."""
    import expreview

    fixed = expreview.fix(files, stage=stage, unsafe=unsafe)
    original = expreview.make_bundle(files, stage).files
    return FixOutcome(ready=fixed.report.ready, applied=[a.as_dict() for a in fixed.applied],
                      conflicts=[c.as_dict() for c in fixed.conflicts], changed=fixed.changed,
                      diff=unified_diff(original, fixed), written=False,
                      files={p: fixed.files[p] for p in fixed.changed}, report=fixed.report.as_dict())


TOOLS = (review_directory, review_files, fix_directory, fix_files)


def build_server() -> Any:
    """The MCP server with expreview's tools; ImportError when the SDK is not installed."""
    from mcp.server.mcpserver import MCPServer

    from expreview.version import __version__

    server = MCPServer("expreview", instructions=INSTRUCTIONS, version=__version__)
    for tool in TOOLS:
        server.tool(structured_output=True)(_reported(tool))
    return server


def _reported(tool: Any) -> Any:
    """`tool` with expreview's errors raised as the SDK's tool errors (one line, no traceback)."""
    import functools

    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(tool)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return tool(*args, **kwargs)
        except ReviewError as exc:
            raise ToolError(str(exc)) from None
        except OSError as exc:
            raise ToolError(f"{exc.filename or ''}: {exc.strerror or exc}") from None

    return call


def serve() -> None:
    build_server().run("stdio")
