"""FIG: evaluation figures are PDFs, in the right place, with legends and annotations."""
