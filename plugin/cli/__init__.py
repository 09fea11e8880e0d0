"""The `customer-value` command line.

Each command gathers its inputs (files, flags, the configuration), asks the app's services or
the pure core, and prints. Expected failures (bad data, bad settings, unknown users) end with a
message on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

from integrations.sandbox.server import sandbox_command
from plugin.appkit.commands import package_command, validate_command
from plugin.cli import (  # noqa: F401 - each registers its commands
    account,
    backtest,
    operate,
    sample,
    score,
    settings,
)
from plugin.cli.base import main

main.add_command(sandbox_command, "sandbox")
main.add_command(validate_command, "validate")
main.add_command(package_command, "package")

__all__ = ["main"]
