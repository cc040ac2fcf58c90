#!/usr/bin/env python3
# /// script
# requires-python = ">=3.11"
# dependencies = ["httpx>=0.27,<1", "pydantic>=2.7,<3", "jinja2>=3.1,<4", "click>=8.1,<9"]
# ///
"""Replay/follow a background run's stream as NDJSON.

Usage: stream_run.py RUN_ID [--starting-after N] [--max-events N]
Same as `letta-runs runs stream --json`: JSON on stdout, diagnostics on stderr, the CLI's exit codes.
Settings: LETTA_API_KEY, LETTA_BASE_URL (``demo`` = embedded recorded runs), LETTA_PROJECT.
"""

from _bootstrap import run_tool  # finds letta-runs and an interpreter that has its dependencies

raise SystemExit(run_tool("runs", "stream"))
