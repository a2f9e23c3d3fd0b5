"""DEP: pyproject.toml and the imports it must declare: a project uv accepts (pyproject, DEP001),
the imports declared and used, PyTorch only (imports, DEP002-DEP004); common reads what it declares."""
