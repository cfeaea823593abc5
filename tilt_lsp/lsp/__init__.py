"""The language server: translates between LSP and the engine; it never decides anything."""
