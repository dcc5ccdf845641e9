"""Stand-in for Azure ML's ``aml_response`` module: ``AMLResponse``."""

from aml_host.response import AMLResponse

__all__ = ["AMLResponse"]
