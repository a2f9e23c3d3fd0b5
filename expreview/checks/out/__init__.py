"""OUT: what the scripts print and write: train's and evaluate's stdout contract (stdout, OUT001-OUT003),
and the files and keys one module reads that another must write (files, OUT004)."""
