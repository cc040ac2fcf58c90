"""The package version, in a module of its own.

Anything may import it — the transport's User-Agent, the CLI's ``--version``, the MCP and REST
faces — without importing the package's ``__init__`` (and, through it, the models). The build
reads the version from here too (``[tool.hatch.version]`` in pyproject.toml).
"""

__version__ = "0.1.0"
