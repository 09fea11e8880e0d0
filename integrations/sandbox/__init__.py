"""A faithful stand-in for the Zendesk Support API, served from a dataset folder.

`running_sandbox(data_dir, **options)` serves it in the background for tests and the demo;
`sandbox_command` is the `customer-value sandbox` command; `create_app(data, config)` builds
the Flask app over a loaded `Store`.
"""

from .app import create_app
from .config import SandboxConfig
from .data import Store
from .server import running_sandbox, sandbox_command, serve

__all__ = ["SandboxConfig", "Store", "create_app", "running_sandbox", "sandbox_command", "serve"]
