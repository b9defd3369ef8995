"""The model against queueing theory: checks that regenerate ``docs/validation.md``.

Run ``python -m sim.validation [--full] [--out docs/validation.md] [--jobs N]`` (or
``bordersim validate-model``): the default runs a fast subset (under a minute); ``--full``
runs every check with long runs (several minutes). Besides the statistical checks against
theory (``sim.validation.checks``) it replays traces through the exact Kiefer-Wolfowitz
recursion (``sim.validation.recursion``), and the exit status says whether both hold.
"""

from __future__ import annotations

import argparse
import sys
import time

from sim.validation import checks
from sim.validation.markdown import write_markdown
from sim.validation.recursion import replay_checks


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.validation [--full] [--out FILE] [--jobs N]``: run the checks, write the report.

    Exit status 0 when the failures are no more than chance explains and every replayed trace
    matches the recursion, 1 otherwise. ``run_checks`` is looked up on ``sim.validation.checks``
    at call time, so a test can replace it there.
    """
    parser = argparse.ArgumentParser(prog="python -m sim.validation", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every check with long runs (several minutes)")
    parser.add_argument("--out", default="docs/validation.md", help="markdown file to write")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per run (results are the same)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f} s] {message}", file=sys.stderr, flush=True)

    results = checks.run_checks(full=args.full, jobs=args.jobs, progress=say)
    exact = replay_checks()
    say(f"replayed traces: {sum(c.passed for c in exact)} of {len(exact)} match the recursion exactly")
    path = write_markdown(results, args.out, "python -m sim.validation" + (" --full" if args.full else ""), exact)
    failed = sum(not r.passed for r in results)
    say(f"{len(results) - failed} of {len(results)} checks pass; wrote {path}")
    return 0 if checks.verdict(results) and all(c.passed for c in exact) else 1


if __name__ == "__main__":
    sys.exit(main())
