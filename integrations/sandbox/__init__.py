"""A faithful stand-in for the Zendesk Support API, served from a dataset folder.

`running_sandbox(data_dir, **options)` serves it in the background for tests and the demo;
`sandbox_command` is the `customer-value sandbox` command; `create_app(data, config)` builds
the Flask app over a loaded `Store`.
"""

from integrations.sandbox.app import create_app
from integrations.sandbox.config import SandboxConfig
from integrations.sandbox.data import Store
from integrations.sandbox.server import running_sandbox, sandbox_command, serve

__all__ = ["SandboxConfig", "Store", "create_app", "running_sandbox", "sandbox_command", "serve"]
