"""A real Letta 0.16.8 server for integration tests: provisioning, a scripted model, seeding, recording.

Runs under the project's own interpreter (standard library + httpx); Letta itself runs in its own
virtualenv inside the git-ignored harness dir. See README.md in this folder.
"""

from .harness import ExternalServer, LettaServerHarness, ServerInfo
from .layout import LETTA_VERSION, Layout
from .record import record_bundle
from .seed import SeededRun, SeededRuns, seed_runs
from .services import HarnessError

__all__ = [
    "LETTA_VERSION",
    "ExternalServer",
    "HarnessError",
    "Layout",
    "LettaServerHarness",
    "SeededRun",
    "SeededRuns",
    "ServerInfo",
    "record_bundle",
    "seed_runs",
]
