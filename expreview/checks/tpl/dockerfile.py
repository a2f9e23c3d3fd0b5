"""TPL001: the Dockerfile builds the contract's environment: a Python 3.11 base, uv, `uv sync` after
pyproject.toml is copied, and the source copied into the image.

What each gap costs follows from how the template's workflow uses the image: it builds it, and when
the build fails it runs the experiment natively instead (the image's system packages are then
missing, which is a criterion, not a crash); when the build succeeds it runs `uv run python -u -m
src.main …` inside the image with only the results directory mounted. So a missing uv or a missing
source crashes the run only when the build still succeeds."""
from __future__ import annotations

import re
from typing import Iterator, Optional

from expreview.bundle import Bundle
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.dockerfile import DockerfileSource, Instruction

DOCKERFILE = "Dockerfile"
GOOD_DOCKERFILE = """\
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv
WORKDIR /workspace
COPY pyproject.toml ./
RUN uv sync
COPY . .
"""
_UV_INSTALLED = re.compile(r"astral(?:-sh|\.sh)/uv|\b(?:pip3?|pipx|python3?\s+-m\s+pip)\s+install\b[^&;|]*\buv\b")
_UV_SYNC = re.compile(r"\buv\s+(?:sync\b|pip\s+install\b)")
_PY311 = re.compile(r"(?:^|[^\d.])3\.11(?:[^\d]|$)")


def _base_image(stage: list[Instruction]) -> Optional[str]:
    if not stage or stage[0].keyword != "FROM":
        return None
    words = stage[0].words
    return words[0] if words else None


def _copies(ins: Instruction, *names: str) -> bool:
    """A COPY/ADD (not from another stage or image) whose sources include one of `names` (`.` for
    the whole build context)."""
    if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
        return False
    sources = []
    for word in ins.words[:-1]:
        word = word[2:] if word.startswith("./") else word
        sources.append(word.rstrip("/") or ".")
    return any(source in names for source in sources)


@rule(
    code="TPL001", name="dockerfile-environment", severity=ERROR,
    consequence=CRITERION,
    criterion="Dockerfile: Python 3.11 base, installs uv, copies `pyproject.toml`, runs `uv sync`, "
              "copies the source.",
    rationale="The workflow builds the image and runs `uv run python -u -m src.main …` in it with only "
              "the results directory mounted: without uv or without the source that run fails. A build "
              "that fails (`uv sync` before pyproject.toml is there, or without uv) makes the workflow "
              "run natively, without the system packages the image was for.",
    invalid=[
        Example(files={DOCKERFILE: GOOD_DOCKERFILE.replace("COPY . .\n", "")}, line=1, message="No module named 'src'"),
        Example(files={DOCKERFILE: GOOD_DOCKERFILE.replace("COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv\n", "")
                       .replace("RUN uv sync\n", "RUN pip install torch\n")}, line=1, message="uv: not found"),
        Example(files={DOCKERFILE: GOOD_DOCKERFILE.replace("COPY pyproject.toml ./\nRUN uv sync\nCOPY . .\n",
                                                           "RUN uv sync\nCOPY . .\n")}, line=4, message="before pyproject.toml"),
        Example(files={DOCKERFILE: GOOD_DOCKERFILE.replace("python:3.11-slim", "python:3.9-slim")}, line=1,
                message="Python 3.11"),
        Example(files={DOCKERFILE: GOOD_DOCKERFILE.replace("RUN uv sync\n", "")}, line=1, message="never runs `uv sync`"),
    ],
    valid=[
        Example(files={DOCKERFILE: GOOD_DOCKERFILE}),
        # uv's own image, a pip-installed uv, continuation lines and comments inside them
        Example(files={DOCKERFILE: """
            FROM ghcr.io/astral-sh/uv:python3.11-bookworm-slim
            WORKDIR /app
            COPY pyproject.toml uv.lock* ./
            RUN uv sync \\
                # no dev dependencies
                --no-dev
            COPY src ./src
            COPY config ./config
            """}),
        Example(files={DOCKERFILE: """
            FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
            RUN apt-get update && apt-get install -y python3.11 python3-pip && pip install uv
            COPY . /workspace
            WORKDIR /workspace
            RUN uv sync
            """}),
        # a base image named by a build argument: nothing to judge
        Example(files={DOCKERFILE: GOOD_DOCKERFILE.replace("python:3.11-slim", "${BASE_IMAGE}")}),
    ],
)
def dockerfile_environment(bundle: Bundle) -> Iterator[Hit]:
    doc = bundle.dockerfile(DOCKERFILE)
    if doc is None:
        yield Hit(DOCKERFILE, "the repository has no Dockerfile, so the workflow runs the experiment natively; add "
                              "the template's Dockerfile (Python 3.11 base, uv, `uv sync` after copying "
                              "pyproject.toml, the source copied)")
        return
    yield from _gaps(doc)


def _gaps(doc: DockerfileSource) -> Iterator[Hit]:
    everything = doc.instructions
    stage = doc.final_stage()
    if not stage:
        yield Hit(DOCKERFILE, "the Dockerfile has no instructions; write the template's Dockerfile", 1)
        return
    first = stage[0].line
    image = _base_image(stage)
    text = "\n".join(f"{i.keyword} {i.arguments}" for i in everything)
    uv = _UV_INSTALLED.search(text) is not None or (image is not None and "astral-sh/uv" in image)
    syncs = [i for i in stage if i.keyword == "RUN" and _UV_SYNC.search(i.arguments)]
    if not uv:
        if syncs:
            yield Hit(DOCKERFILE, f"uv is never installed, so the build fails at `RUN {syncs[0].arguments}` (line "
                                  f"{syncs[0].line}) and the workflow runs natively, without this image; install uv "
                                  "(`COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv`)", syncs[0].line)
        else:
            yield Hit(DOCKERFILE, "uv is never installed in the image, so the workflow's `uv run python -u -m src.main …` "
                                  "fails in the container (uv: not found); install uv "
                                  "(`COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv`) and run `uv sync`",
                      first, consequence=CRASH)
    if image is not None and "$" not in image and _PY311.search(image) is None \
            and _PY311.search(text.split("\n", 1)[1] if "\n" in text else "") is None:
        yield Hit(DOCKERFILE, f"the base image `{image}` is not Python 3.11, which the contract asks for; "
                              "use `FROM python:3.11-slim`", first)
    if uv and not syncs:
        yield Hit(DOCKERFILE, "the Dockerfile never runs `uv sync`, so the image holds none of the dependencies and "
                              "every run installs them again; copy pyproject.toml and `RUN uv sync`", first)
    for sync in syncs[:1]:
        before = [i for i in stage if i.line < sync.line]
        if not any(_copies(i, "pyproject.toml", ".") for i in before):
            yield Hit(DOCKERFILE, f"`RUN {sync.arguments}` runs before pyproject.toml is copied into the image, so the "
                                  "build fails (no project found) and the workflow runs natively, without this image; "
                                  "`COPY pyproject.toml ./` before it", sync.line)
    if not any(_copies(i, ".", "src") for i in stage):
        yield Hit(DOCKERFILE, "the image never gets the source (no `COPY . .` or `COPY src …`), and the workflow mounts "
                              "only the results directory, so `python -m src.main` fails in the container with "
                              "No module named 'src'; add `COPY . .` after `RUN uv sync`", first, consequence=CRASH)
