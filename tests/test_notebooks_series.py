"""The notebook series keeps its shape: NN-kebab-title names with no gaps, an H1 first, committed with
outputs, and no product code defined in a notebook (style guide §4). nbval runs the cells themselves."""

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAME = re.compile(r"(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb")
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_series_exists():
    assert PATHS, f"no notebooks in {NOTEBOOKS}"


def test_names_are_numbered_kebab_case_from_01_without_gaps():
    names = [path.name for path in PATHS]
    bad = [name for name in names if not NAME.fullmatch(name)]
    assert not bad, f"not NN-kebab-title.ipynb: {bad}"
    numbers = [int(NAME.fullmatch(name).group(1)) for name in names]
    assert numbers == list(range(1, len(names) + 1)), f"numbers must run 01, 02, … without gaps: {names}"


@pytest.fixture(params=PATHS, ids=[path.name for path in PATHS])
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def test_opens_with_a_markdown_h1(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert re.match(r"# \S", first.source), f"first cell must start with an H1: {first.source[:60]!r}"


def test_ends_with_a_markdown_cell_pointing_on(notebook):
    assert notebook.cells[-1].cell_type == "markdown"


def test_is_committed_with_outputs(notebook):
    """nbval skips the output check of a cell never executed, so a stripped notebook tests nothing."""
    unexecuted = [
        cell.source.splitlines()[0] if cell.source else "(empty)"
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.execution_count is None
    ]
    assert not unexecuted, f"code cells without an execution count: {unexecuted}"


def test_was_run_top_to_bottom(notebook):
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"restart and run all: execution counts {counts}"


def _defines(source: str) -> bool:
    """A function or class defined in the kernel. Read as Python (a ``def`` in a string that a cell
    writes into a user's project file is no definition); IPython's ``%`` and ``!`` lines are left out."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    tree = ast.parse(code)
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in ast.walk(tree))


def test_defines_no_product_code(notebook):
    """Helpers, actions and fixtures live in wsapp; a notebook only imports and calls them."""
    defining = [cell.source for cell in notebook.cells if cell.cell_type == "code" and _defines(cell.source)]
    assert not defining, f"move these definitions into the package: {defining}"


def test_the_definition_check_reads_python_not_text():
    assert _defines("async def f():\n    pass") and _defines("x = 1\nclass A:\n    pass")
    assert not _defines('code = """\ndef f():\n    pass\n"""\n%time print(code)')


def test_markers_have_a_reason_in_the_markdown_before(notebook):
    cells = notebook.cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        for marker in ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION"):
            if f"# {marker}" in cell.source:
                before = cells[i - 1] if i else None
                assert before is not None and before.cell_type == "markdown", (
                    f"{marker} needs a markdown cell before it that gives the reason"
                )
        if "# NBVAL_RAISES_EXCEPTION" in cell.source:
            assert "raises-exception" in cell.metadata.get("tags", []), (
                "NBVAL_RAISES_EXCEPTION needs the raises-exception tag so Run All carries on"
            )
