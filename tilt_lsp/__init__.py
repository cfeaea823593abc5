"""tilt-lsp: the inner dev loop for containerised apps, inside the editor."""

__version__ = "0.1.0"
