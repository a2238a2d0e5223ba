"""The README's first screen stays true: its two commands are make targets, the figures it states match the
synthesized example, and every make target it names exists."""

from __future__ import annotations

import re

from tests.conftest import ROOT, Synthesized

README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def test_the_readme_opens_with_the_synth_and_test_commands_and_where_their_costs_are() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert first_block == ["make synth", "make test"], "the exact commands .ci/run and a newcomer type"
    first_screen = README[:3000]
    assert first_screen.count("[Measured](#measured)") == 2, "durations and sizes live in one measured table"
    for prerequisite in ("Python 3.11+", "`make`", "Terraform 1.11+", ".venv/bin"):
        assert prerequisite in first_screen, prerequisite
    stated = re.findall(r"\d[\d.,]*\s*(?:minutes?|s\b|GB|MB)", first_screen)
    assert not stated, f"a figure on the first screen goes stale unchecked: {stated}; put it in the Measured table"


def measured_rows() -> dict[str, list[str]]:
    section = README.split("### Measured\n", 1)[1].split("\n## ", 1)[0]
    table = section[section.index("| case |") :].split("\n\n", 1)[0]  # the first table of the section
    rows = [line.strip("|").split("|") for line in table.splitlines() if line.startswith("| ") and not line.startswith("| case")]
    return {cells[0].strip(): [cell.strip() for cell in cells[1:]] for cells in rows}


def test_the_measured_table_holds_what_the_benchmarks_print_and_nothing_else() -> None:
    from tools import bench

    printed = [*bench.SYNTH_CASES, "installed: .venv", "installed: node_modules", bench.SYNTH_LABEL, *(s[0] for s in bench.SUITES)]
    rows = measured_rows()
    assert list(rows) == printed
    for label, (seconds, peak, by) in rows.items():
        assert re.fullmatch(r"[\d,]+", peak), (label, peak)
        assert label.startswith("installed") or re.fullmatch(r"[\d.]+", seconds), (label, seconds)
        assert by.startswith("`make bench-tests`" if label.startswith("make ") else "`make bench`"), (label, by)
    for label, _, target in bench.SUITES:  # whether a figure meets it is the benchmark's verdict, not a test's
        assert f"target: at most {target}x one synth" in rows[label][2]


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
