"""Stand-in used only when the real Azure ML package is not installed (see compat/README.md)."""
