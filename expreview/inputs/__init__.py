"""Reading a review input: a directory, a JSON bundle, a logged prompt."""
