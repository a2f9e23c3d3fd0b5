"""The exceptions expreview raises for what its caller must fix. Each is a `ReviewError`, so a
pipeline catches one class; the CLI prints the message on one line and exits 2.

    ReviewError
    ├── LoadError      the input cannot be read as a bundle (files, JSON bundle, logged prompt)
    ├── SettingsError  a stage, rule code, option or `[tool.expreview]` value that does not exist
    ├── ProfileError   a prompt version the stage does not have, or broken rule data in rules/
    └── BaselineError  a baseline file that cannot be read or written

LoadError and SettingsError are also ValueErrors (the argument's value is wrong)."""
from __future__ import annotations


class ReviewError(Exception):
    """Something the caller must fix before expreview can review; the message says what."""


class LoadError(ReviewError, ValueError):
    """Input that cannot be reviewed."""


class SettingsError(ReviewError, ValueError):
    """A setting (stage, codes, options, configuration keys) that expreview does not know."""


class ProfileError(ReviewError):
    """A stage profile or prompt version that does not exist or is not well formed."""


class BaselineError(ReviewError):
    """A baseline that cannot be read or written."""
