"""The Zendesk app package: an offline validator with Zendesk's own rules and words, and the
packaging of `manifest/` into the zip an admin uploads."""

from plugin.appkit.folder import Problem
from plugin.appkit.packaging import PackageError, build_package
from plugin.appkit.validator import Report, validate

__all__ = ["PackageError", "Problem", "Report", "build_package", "validate"]
