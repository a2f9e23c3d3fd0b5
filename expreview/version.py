"""The version of expreview (its own module, so that the reporters can name it without importing the package)."""
__version__ = "0.1.0"
