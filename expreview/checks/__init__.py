"""The built-in rules, one module (or package) per family, named by its code. Importing this package
registers them."""
from . import (  # noqa: F401
    cfg,
    ckpt,
    cli,
    dep,
    drv,
    eval,
    fig,
    hyd,
    lay,
    out,
    ph,
    py,
    run,
    spec,
    wb,
)
