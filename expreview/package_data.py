"""Read the data files shipped inside expreview's packages.

A package installed on a file system is read next to its module, directly; importlib.resources,
which also serves packages inside zip files, costs a few milliseconds of every cold start to
import (it brings in zipfile), so it is used only for a package that has no directory of its own."""
from __future__ import annotations

import importlib
import os


def read_bytes(package: str, name: str) -> bytes:
    """The bytes of data file `name` of `package`; FileNotFoundError when it is not shipped."""
    module = importlib.import_module(package)
    where = getattr(module, "__file__", None)
    if where and os.path.isdir(os.path.dirname(where)):
        with open(os.path.join(os.path.dirname(where), name), "rb") as handle:
            return handle.read()
    from importlib import resources

    return resources.files(package).joinpath(name).read_bytes()
