"""Golden results: exact summary and stage tables of a few seeded runs, pinned to the last digit.

A change that moves any number here is either a bug or a deliberate change of the model,
which its commit names before regenerating the files with
``python tests/test_golden.py --regenerate``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"

CASES = {
    "tutorial": ("scenarios/tutorial_single_crossing.yaml", {"replications": 3}),
    "tandem": ("bench/tandem.yaml", {"replications": 2, "days": 3}),
    "kz_ru_customs_union": ("scenarios/kz_ru_2011_customs_union.yaml", {"replications": 2, "days": 2}),
    "kz_ru_double_control": ("scenarios/kz_ru_2009_double_control.yaml", {"replications": 2, "days": 2}),
}
TABLES = ("summary", "stages")


def _tables(case: str) -> dict[str, pd.DataFrame]:
    path, options = CASES[case]
    result = sim.run(sim.load_scenario(ROOT / path), **options)
    return {name: getattr(result, name).reset_index(drop=True) for name in TABLES}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _write(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, float_format="%.17g")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case, tmp_path):
    for name, table in _tables(case).items():
        # through the same CSV round trip as the pinned file, so dtypes compare alike
        _write(table, tmp_path / f"{name}.csv")
        got = _read(tmp_path / f"{name}.csv")
        want = _read(GOLDEN / f"{case}.{name}.csv")
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=f"{case} {name}")


if __name__ == "__main__" and "--regenerate" in sys.argv:
    GOLDEN.mkdir(exist_ok=True)
    for case in sorted(CASES):
        for name, table in _tables(case).items():
            _write(table, GOLDEN / f"{case}.{name}.csv")
            print(f"wrote {GOLDEN / f'{case}.{name}.csv'}")
