"""``python -m letta_runs`` — the same as the ``letta-runs`` command."""

from letta_runs.cli import main

raise SystemExit(main())
