"""The CLI against odd argument sets: never an unexpected error (exit 1), never a traceback.

Each case changes one argument, option or setting of a working command to an odd value — an id
with a final newline, ``nan``/``inf``/huge numbers, durations past any calendar, URLs that do not
parse, paths that cannot be written, keys and headers that cannot be sent, wrong types — plus a
seeded random mix of several at once. Every case must end in a documented exit code with a
message (a usage error is exit 2), and the key never shows. The recorded runs answer (no network).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from faults import FakeLetta, FaultTransport
from letta_runs.cli import CLIState, cli

KEY = "sk-let-fuzz-key-0c9d2e"
RUN = "run-39e39189-9b0f-49e1-aa16-49a02c1268f4"
RUN_B = "run-a30ab545-21d6-4e68-b8a4-3a53f0bd1011"
BG_RUN = "run-5ab019dd-6498-4ae8-9c53-271145402d1b"
DOCUMENTED = {0, 2, 3, 4, 5, 6, 7, 8}

ODD_IDS = [
    "",
    " ",
    RUN + "\n",
    "\n" + RUN,
    RUN + "\r\n",
    RUN.upper(),
    RUN + " ",
    "run-x",
    "run-" + "0" * 400,
    "../../etc/passwd",
    RUN + "\x00",
    "ｒｕｎ-39e39189-9b0f-49e1-aa16-49a02c1268f4",
    "run-39e39189-9b0f-49e1-aa16-49a02c1268f4/../x",
    "💥",
    "--",
]
ODD_INTS = ["0", "-1", "-99999999999999999999", "99999999999999999999", "nan", "inf", "", "1.5"]
ODD_INTS += ["x", "1e9", "٣"]
ODD_SECONDS = ["nan", "inf", "-inf", "0", "-1", "1e309", "", "x", "1e-320", "86401", "NaN"]
ODD_DURATIONS = ["99999999999d", "nan", "0s", "-1m", "1y", "", "1e5d", "٣m", "10m\n", "inf"]
ODD_DURATIONS += ["1.5.5h", "36501d"]
ODD_URLS = ["", " ", "http://[::1", "ftp://x", "http://", "http://a b", "http://x:99999"]
ODD_URLS += ["https://", "javascript:alert(1)", "http://x/?q=1", "http://x\n", "demo\n"]
ODD_STATUS = ["bogus", "FAILED", "", "failed,cancelled", "failed\n"]


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return repr(self.args + tuple(f"{k}={v}" for k, v in self.env))[:120]


def _cases(tmp: Path) -> list[Case]:
    missing_dir = str(tmp / "no-such-folder" / "out.json")
    a_folder = str(tmp)
    paths = [missing_dir, a_folder, "", "/dev/full"]
    commands: list[tuple[tuple[str, ...], dict[str, list[str]]]] = [
        (("runs", "get", RUN), {"-o": paths}),
        (
            ("runs", "list"),
            {
                "--limit": ODD_INTS,
                "--max-items": ODD_INTS,
                "--status": ODD_STATUS,
                "--stop-reason": ["bogus", "", "END_TURN"],
                "--before": ODD_IDS[:6],
                "--order": ["sideways", ""],
                "-o": paths,
            },
        ),
        (("runs", "messages", RUN), {"--limit": ODD_INTS, "--after": ["message-x", "", "\n"]}),
        (("runs", "steps", RUN), {"--limit": ODD_INTS, "--before": ["step-x", ""]}),
        (("runs", "trace", RUN), {"--limit": ODD_INTS}),
        (
            ("runs", "stream", BG_RUN, "--max-events", "3"),
            {
                "--idle-timeout": ODD_SECONDS,
                "--poll-interval": ODD_SECONDS,
                "--starting-after": ODD_INTS,
                "--batch-size": ODD_INTS,
            },
        ),
        (("diagnose", RUN), {"--stuck-after": ODD_DURATIONS, "--detail": ["all", ""]}),
        (("timeline", RUN), {"--detail": ["x"], "-o": paths}),
        (("triage", "--limit", "5"), {"--since": ODD_DURATIONS, "--status": ODD_STATUS}),
        (("triage", "--since", "all"), {"--limit": ODD_INTS, "--concurrency": ODD_INTS}),
        (("stuck",), {"--older-than": ODD_DURATIONS}),
        (("watch", RUN), {"--idle-timeout": ODD_DURATIONS, "--max-time": ODD_DURATIONS}),
        (("export", RUN, "--no-stream"), {"-o": paths}),
        (("prompt", "analyze", RUN), {"-o": paths}),
        (("runs", "delete", RUN), {"--yes": []}),
    ]
    cases: list[Case] = []
    for base, options in commands:
        for option, values in options.items():
            cases += [Case((*base, option, value)) for value in values]
    # Odd ids in every command that takes one.
    for command in (("runs", "get"), ("runs", "usage"), ("runs", "messages"), ("diagnose",)):
        cases += [Case((*command, bad)) for bad in ODD_IDS]
    cases += [Case(("compare", RUN, bad)) for bad in ODD_IDS[:8]]
    cases += [Case(("runs", "delete", bad, "--yes")) for bad in ODD_IDS[:8]]
    # Global options, before and after the command.
    for url in ODD_URLS:
        cases += [
            Case(("--base-url", url, "runs", "get", RUN)),
            Case(("runs", "list", "--base-url", url)),
        ]
    for seconds in ODD_SECONDS:
        cases += [Case(("--timeout", seconds, "runs", "get", RUN))]
    cases += [Case(("--max-retries", n, "runs", "get", RUN)) for n in ODD_INTS]
    # Settings from the environment.
    keys = ["k\r\n" + KEY, KEY + "\n", KEY + "\r", "ké" + KEY, " " + KEY, KEY + "\t", KEY + "\x7f"]
    cases += [Case(("runs", "get", RUN), (("LETTA_API_KEY", key),)) for key in keys]
    cases += [Case(("--api-key", key, "runs", "get", RUN)) for key in keys]
    headers = [
        "NoColon",
        ": value",
        "X-A: \x1b",
        "Bad Name: v",
        "X-B: é",
        "X-C:",
        "\n\n",
        "X-D: a\tb",
    ]
    cases += [Case(("runs", "get", RUN), (("LETTA_CUSTOM_HEADERS", h),)) for h in headers]
    projects = ["prøject", "p\n", " p", "p\x00"[:-1] + "\x01"]
    cases += [Case(("runs", "get", RUN), (("LETTA_PROJECT", p),)) for p in projects]
    cases += [Case(("runs", "get", RUN), (("LETTA_BASE_URL", u),)) for u in ODD_URLS if u.strip()]
    # Servers that refuse to start before binding anything.
    cases += [
        Case(("serve", "--port", "0")),
        Case(("serve", "--host", "0.0.0.0")),
        Case(("mcp", "--transport", "carrier-pigeon")),
        Case(("mcp", "--transport", "http", "--host", "0.0.0.0")),
        Case(("serve",), (("LETTA_API_KEY", KEY + "\r\n"),)),
    ]
    # A seeded mix: several odd values at once.
    rng = random.Random(20261128)
    pool = [c.args for c in cases if c.args[0] in ("runs", "diagnose", "triage") and not c.env]
    for _ in range(60):
        first, second = rng.sample(pool, 2)
        cases.append(Case(first + tuple(a for a in second[-2:] if a.startswith("-"))))
    return cases


CASES = _cases(Path("/tmp/letta-runs-fuzz-does-not-exist"))


def test_there_are_enough_odd_cases() -> None:
    assert len(CASES) >= 400
    assert len({c.id for c in CASES}) > 350


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_odd_arguments_end_in_a_documented_exit_code(case: Case, tmp_path: Path) -> None:
    real = _cases(tmp_path)  # the same cases, with paths inside this test's folder
    case = real[CASES.index(case)]
    env = {
        "LETTA_BASE_URL": "demo",
        "LETTA_API_KEY": KEY,
        "LETTA_RUNS_READ_ONLY": "",
        "LETTA_CUSTOM_HEADERS": "",
        "LETTA_PROJECT": "",
        **dict(case.env),
    }
    state = CLIState(transport=FaultTransport(FakeLetta()))
    result = CliRunner().invoke(cli, list(case.args), obj=state, env=env)
    shown = result.stdout + result.stderr
    assert result.exit_code in DOCUMENTED, (result.exit_code, shown[-2000:])
    assert "Traceback" not in shown
    assert "unexpected" not in result.stderr
    assert KEY not in shown
    if result.exit_code != 0:
        assert result.stderr.strip(), "a failure always says why"
