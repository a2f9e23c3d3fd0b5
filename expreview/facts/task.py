"""The experiment's task (template stage): training or inference, and so which module runs one
experiment (src/train.py or src/inference.py).

`[tool.expreview] options = {task = "training"}` (or "inference") decides it. Otherwise the code
does: what src/main.py starts or imports (`python -m src.inference`, `from src.train import …`),
then which of the two files exists. The template ships both files, so a repository that holds both
and whose main reaches neither (or both) has no task expreview can tell; the rules that depend on it
stay silent then."""
from __future__ import annotations

from typing import Optional

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.facts.launches import launches

MAIN = "src/main.py"
RUN_MODULES = {"training": "src/train.py", "inference": "src/inference.py"}


@bundle_fact
def task_type(bundle: Bundle) -> Optional[str]:
    """"training", "inference", or None when it cannot be told."""
    configured = bundle.option("task", "auto")
    if configured in RUN_MODULES:
        return str(configured)
    present = [task for task, path in RUN_MODULES.items() if path in bundle.files]
    if len(present) == 1:
        return present[0]
    reached = _reached_from_main(bundle)
    return reached.pop() if len(reached) == 1 else None


def _reached_from_main(bundle: Bundle) -> set[str]:
    source = bundle.parsed(MAIN)
    if source is None:
        return set()
    return {task for task, path in RUN_MODULES.items() if _reaches(source, path)}


def _reaches(source, path: str) -> bool:
    """`source` starts the module at `path` (`python -m src.train`) or imports it (`from src.train
    import …`, `from src import train`, `from . import train`)."""
    if any(launch.target == path for launch in launches(source)):
        return True
    module = path[:-3].replace("/", ".")  # src.train
    for imp in source.index.imports:
        dotted = ".".join(part for part in (imp.module, imp.name) if part)
        if dotted == module or dotted.startswith(module + ".") or imp.level and imp.name == module.rsplit(".", 1)[-1]:
            return True
    return False


def run_module(bundle: Bundle) -> str:
    """The module that runs one experiment: src/inference.py for an inference task, else
    src/train.py (every stage but the template has only that one)."""
    return RUN_MODULES["inference"] if task_type(bundle) == "inference" else RUN_MODULES["training"]


def required_for_task(bundle: Bundle) -> list[str]:
    """The task's module, when the stage lists task modules (option `task_files`) and the task is known."""
    task_files = bundle.option("task_files")
    task = task_type(bundle)
    if not isinstance(task_files, dict) or task is None:
        return []
    return [str(p) for p in task_files.get(task) or []]


def unused_task_module(bundle: Bundle) -> Optional[str]:
    """The other task's module when the stage lists task modules, the task is known, and nothing in
    the bundle imports or starts that module: the template ships src/train.py and src/inference.py
    both, and an inference experiment leaves train.py a stub that never runs."""
    task_files = bundle.option("task_files")
    task = task_type(bundle)
    if not isinstance(task_files, dict) or task is None:
        return None
    other = next((path for name, path in RUN_MODULES.items() if name != task), None)
    if other is None or other not in bundle.files:
        return None
    if any(_reaches(source, other) for source in bundle.python_files() if source.path != other):
        return None
    return other
