"""Dockerfile steps to lines: by stage and step number; never a guess between twins."""

from __future__ import annotations

from tilt_lsp.diagnostics.dockersteps import StepRef, locate_step
from tilt_lsp.diagnostics.parsers import DockerfileSource
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import diagnose_lines

from .golden import DATA, mapper_for, output_lines

TWINS = (DATA / "dockerfile/multistage_buildkit/Dockerfile").read_text()
# 1 ARG, 2 FROM … AS build, 3 WORKDIR, 4 COPY, 5 RUN sh /check.sh, 7 FROM, 8 WORKDIR,
# 9 COPY --from, 10 COPY, 11 RUN sh /check.sh


def test_buildkit_stage_name_and_number_pick_the_right_twin() -> None:
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 5, 5, "stage-1")) == 11
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 4, 4, "build")) == 5
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 4, 4, "stage-0")) == 5


def test_the_stage_alone_is_enough_when_the_text_is_unique_in_it() -> None:
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", stage="stage-1")) == 11


def test_identical_instructions_without_a_stage_are_not_guessed() -> None:
    assert locate_step(TWINS, StepRef("RUN sh /check.sh")) is None


def test_a_stage_the_dockerfile_does_not_have_claims_nothing() -> None:
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 5, 5, "tests")) is None


def test_a_number_that_disagrees_with_the_text_falls_back_to_the_text() -> None:
    # The file changed since the build: step 5 of stage-1 is now something else.
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 2, 5, "stage-1")) == 11
    assert locate_step(TWINS, StepRef("RUN make", 5, 5, "stage-1")) is None


def test_legacy_steps_count_every_instruction_of_the_file() -> None:
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 10, 11, legacy=True)) == 11
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 5, 11, legacy=True)) == 5
    # A number that does not agree (the file was edited): twins are not guessed between.
    assert locate_step(TWINS, StepRef("RUN sh /check.sh", 7, 11, legacy=True)) is None


def test_one_stage_builds_print_no_stage_name() -> None:
    text = "FROM x\nWORKDIR /app\nENV A=1\nRUN make\nRUN make test\n"
    assert locate_step(text, StepRef("RUN make test", 4, 4)) == 5
    assert locate_step(text, StepRef("RUN make", 3, 4)) == 4


def test_the_real_multistage_build_needs_its_stage_to_be_placed() -> None:
    """The capture without its stage names (an older builder) has two candidates: nothing."""
    case = "dockerfile/multistage_buildkit"
    lines = [
        line.replace(b"[stage-1 ", b"[").replace(b"[build ", b"[") for line in output_lines(case)
    ]
    dockerfile = DockerfileSource(str(DATA / case / "Dockerfile"), TWINS)
    assert list(diagnose_lines(lines, mapper_for(case), dockerfile)) == []
    (problem,) = diagnose_lines(output_lines(case), mapper_for(case), dockerfile)
    assert problem.line == 11


def test_parse_errors_need_to_know_the_dockerfile(tmp_path: object) -> None:
    case = "dockerfile/parse_error_buildkit"
    mapper = PathMapper(str(DATA / case))
    assert list(diagnose_lines(output_lines(case), mapper, None)) == []
