"""FIG: evaluation figures are PDFs, in the right place, with legends and annotations.
Importing this package registers the rules of its modules."""
from . import destination, outside_evaluate, pdf, quality  # noqa: F401
