"""The Zendesk app package: an offline validator with Zendesk's own rules and words, and the
packaging of `manifest/` into the zip an admin uploads."""

from .folder import Problem
from .packaging import PackageError, build_package
from .validator import Report, validate

__all__ = ["PackageError", "Problem", "Report", "build_package", "validate"]
