"""The README's commands are the ones CI runs, and the scenarios it names exist."""

from __future__ import annotations

import re
from pathlib import Path

README = Path("README.md").read_text()


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    blocks = _bash_blocks()
    assert len(blocks) >= 2
    test_command = blocks[1].strip()
    ci = Path(".ci/run").read_text()
    assert test_command in ci.splitlines()


def test_readme_main_command_names_existing_files():
    main = _bash_blocks()[0]
    for path in re.findall(r"scenarios/[\w./-]+\.yaml", main):
        assert Path(path).exists(), path


def test_readme_sweep_example_is_the_shipped_sweep():
    from ruamel.yaml import YAML

    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
    (example,) = [b for b in blocks if "tutorial_truck_booths" in b]
    shipped = YAML(typ="safe").load(Path("sweeps/tutorial_truck_booths.yaml").read_text())
    assert YAML(typ="safe").load(example) == shipped
