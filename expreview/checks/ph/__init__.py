"""PH: placeholders in base code are where they belong and say what replaces them; derived and
Hydra code leaves nothing unfinished."""
