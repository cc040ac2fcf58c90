#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["httpx>=0.27,<1", "pydantic>=2.7,<3", "jinja2>=3.1,<4", "click>=8.1,<9"]
# ///
"""Delete a run (needs --yes; refused when LETTA_RUNS_READ_ONLY=1).

Usage: delete_run.py RUN_ID --yes
Same as `letta-runs runs delete --json`: JSON on stdout, diagnostics on stderr, the CLI's exit codes.
Settings: LETTA_API_KEY, LETTA_BASE_URL (``demo`` = embedded recorded runs), LETTA_PROJECT.
"""

from _bootstrap import run_tool  # finds letta-runs and an interpreter that has its dependencies

raise SystemExit(run_tool("runs", "delete"))
