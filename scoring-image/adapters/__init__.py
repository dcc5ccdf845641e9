"""Thin Azure Functions adapters: convert the trigger's types and call aml_host, nothing else.

Each generated function folder's ``__init__.py`` is exactly
``from adapters.<kind>_adapter import main  # noqa: F401``.
"""
