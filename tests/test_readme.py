"""The README: short, with the set-up commands CI runs, two quickstarts and working links.
(Its ```python blocks run in tests/test_doc_examples.py; the reference material it points to is
checked in tests/test_doc_claims.py.)"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 200


def _section(heading: str) -> str:
    text = README.read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end > 0 else None]


def test_at_most_200_lines():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines; at most {MAX_LINES}"


def test_set_up_commands_are_the_ones_ci_runs():
    setup = _section("## Set up")
    commands = re.search(r"```bash\n(.*?)```", setup, re.S).group(1)
    assert [line.split("#")[0].strip() for line in commands.splitlines()] == ["make test", "make demo"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in ci, "CI must run the README's test command"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:", makefile, re.M) and re.search(r"^demo:", makefile, re.M)


def test_two_seeded_quickstarts():
    for heading, seed in (("## Quickstart: Keras", "keras.utils.set_random_seed("),
                          ("## Quickstart: PyTorch", "torch.manual_seed(")):
        blocks = re.findall(r"```python\n(.*?)```", _section(heading), re.S)
        assert len(blocks) == 1, heading
        assert seed in blocks[0] and "print(" in blocks[0], f"{heading}: seeded, with printed output"


def test_every_row_of_the_box_links_to_its_page():
    rows = [line for line in _section("## What is in the box").splitlines() if line.startswith("| `")]
    assert len(rows) >= 6
    for row in rows:
        assert re.search(r"\]\(docs/[\w/.-]+\.md(#[\w-]+)?\)", row), row


def test_relative_links_resolve():
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text()):
        if "://" in target:
            continue
        assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


def test_no_change_history():
    text = README.read_text().lower()
    for phrase in ("in this change", "the run before", "issue #", "changelog:"):
        assert phrase not in text, phrase
