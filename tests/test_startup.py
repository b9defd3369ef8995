"""``bordersim --help`` and ``bordersim validate`` start quickly: they never import the heavy libraries.

Pandas, matplotlib and pyarrow take seconds to import and are needed only to simulate and
write results, so the command line imports them inside the commands that use them. Each case
runs in a fresh interpreter, which records who imported a heavy module first, so a failure
names the chain of modules (and functions) that pulled it in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "scenarios" / "tutorial_single_crossing.yaml"
BAD = ROOT / "tests" / "bad_scenarios" / "13_unknown_crossing_key.yaml"
HEAVY = ("pandas", "matplotlib", "pyarrow")

PROBE = """
import json
import sys

HEAVY = {heavy!r}
chains = {{}}


class Watch:
    # a finder that finds nothing: it only notes who asked first for each heavy module
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in HEAVY and top not in chains:
            chain = []
            frame = sys._getframe(1)
            while frame is not None:
                module = frame.f_globals.get("__name__", "?")
                if not module.startswith(("importlib", "_frozen_importlib")):
                    code = frame.f_code.co_name
                    chain.append(module if code == "<module>" else f"{{module}}:{{code}}()")
                frame = frame.f_back
            chains[top] = [*reversed(chain), name]
        return None


sys.meta_path.insert(0, Watch())
args = json.loads(sys.argv[1])
code = None
import sim

if args is not None:
    from sim.cli import main

    try:
        code = main(args, standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
print()
print(json.dumps({{"code": code, "heavy": [m for m in HEAVY if m in sys.modules], "chains": chains}}))
"""


def probe(args: list[str] | None) -> dict:
    """Run ``import sim`` and then the command line with ``args`` (if any) in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def no_heavy(found: dict) -> str:
    """The chains that imported a heavy module, one per line, for the assertion's message."""
    return "\n".join(f"{m} imported by: {' -> '.join(found['chains'].get(m, ['?']))}" for m in found["heavy"])


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (None, None),
        (["--help"], 0),
        (["validate", str(TUTORIAL)], None),
        (["validate", str(BAD)], 2),
    ],
    ids=["import sim", "--help", "validate a good file", "validate a bad file"],
)
def test_the_command_line_starts_without_heavy_libraries(args, code):
    found = probe(args)
    assert found["code"] == code
    assert found["heavy"] == [], no_heavy(found)
