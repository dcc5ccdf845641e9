"""Stand-in used only when the real Azure ML inference server is not installed (see compat/README.md)."""
