"""docs/migration_pairs.md is the migration API's own output: regenerated here, on this Keras
backend, and compared with the page."""

import difflib

import pytest

pytestmark = pytest.mark.keras

from parity_tests import migration_table  # noqa: E402


def test_the_page_is_what_this_backend_runs_now():
    import keras

    page = migration_table.PAGE.read_text()
    backend = keras.backend.backend()
    recorded = migration_table.recorded(page)
    assert backend in recorded, f"the page has no outcomes for the {backend} backend: run python -m parity_tests.migration_table"
    fresh = migration_table.regenerate(page)
    prose = lambda text: [line for line in text.splitlines(True) if not line.startswith("<!--")]  # noqa: E731
    stale = "".join(difflib.unified_diff(prose(page), prose(fresh), "page", "regenerated"))[:4000]
    assert fresh == page, f"docs/migration_pairs.md is stale on {backend}: run python -m parity_tests.migration_table\n{stale}"


def test_every_change_on_the_page_makes_its_pair_agree():
    page = migration_table.PAGE.read_text()
    pairs = migration_table._pairs()
    for backend, rows in migration_table.recorded(page).items():
        assert len(rows) == len(pairs), backend
        for pair, row in zip(pairs, rows):
            if pair.make_changed is None:
                assert row.agree and row.changed_agree is None, (backend, pair.topic, row)
            else:
                assert not row.agree and row.why and row.changed_agree, (backend, pair.topic, row)
