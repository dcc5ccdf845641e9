"""Stand-in for Azure ML's ``aml_request`` module: ``AMLRequest`` and the ``rawhttp`` decorator.

Like the original, ``rawhttp`` records at module level that the entry script asked for raw HTTP
access and returns the function unchanged; it also marks the function itself.
"""

from aml_host.request import ScoringRequest as AMLRequest

__all__ = ["AMLRequest", "rawhttp"]

_rawHttpRequested = False


def rawhttp(func):
    """Decorate ``run`` to receive the request object (raw bytes, headers, method, args)."""
    global _rawHttpRequested
    _rawHttpRequested = True
    try:
        func.__aml_rawhttp__ = True
    except (AttributeError, TypeError):
        pass
    return func
