"""The README's first screen stays true: its two commands are make targets, the figures it states match the
synthesized example, and every make target it names exists."""

from __future__ import annotations

import re

from tests.conftest import ROOT, Synthesized

README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def test_the_readme_opens_with_the_synth_and_test_commands_and_what_they_cost() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert first_block == ["make synth", "make test"], "the exact commands .ci/run and a newcomer type"
    first_screen = README[:3000]
    assert "`make synth` takes about 3 minutes on its first run" in first_screen
    assert "`make test` takes about 35 minutes on 2 cores; `make test-fast` (about 7 minutes)" in first_screen
    for prerequisite in ("Python 3.11+", "`make`", "Terraform 1.11+", "about 1.2 GB", "about 430 MB", ".venv/bin"):
        assert prerequisite in first_screen, prerequisite


def test_the_stated_stack_and_resource_counts_are_the_synthesized_ones(synthesized: Synthesized) -> None:
    stated = re.search(r"`make synth` writes (\d+) stacks \(([\d,]+) resources\)", README)
    assert stated, "the README states the stack and resource counts"
    resources = sum(len(items) for stack in synthesized.stacks.values() for items in stack.get("resource", {}).values())
    assert (int(stated.group(1)), int(stated.group(2).replace(",", ""))) == (len(synthesized.stack_names), resources)


def test_every_make_target_the_readme_names_exists() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README))
    assert named and named <= targets, sorted(named - targets)
    assert "see below" not in README, "point at the section instead"


def test_make_help_shows_the_configuration_and_output_it_will_use() -> None:
    import subprocess

    shown = subprocess.run(
        ["make", "-s", "help", "CONFIG=config/other.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "$(" not in shown
    assert "synthesize every stack of config/other.yaml into cdktf.out" in shown
    assert "make test-fast" in shown


def test_the_assessment_sample_is_lines_of_a_real_run(synthesized: Synthesized) -> None:
    from modules.config import load_config
    from tests.conftest import EXAMPLE_CONFIG
    from tools import assess

    real = assess.markdown(assess.assess(load_config(EXAMPLE_CONFIG), assess.Stacks(synthesized.stacks))).splitlines()
    sample = README.split("````markdown\n| architecture", 1)[1].split("````", 1)[0]
    lines = [line for line in ("| architecture" + sample).splitlines() if line.strip()]
    assert len(lines) > 10 and all(line in real for line in lines), [line for line in lines if line not in real]
