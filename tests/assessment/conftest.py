from tests.supervision.conftest import today  # noqa: F401 (the clock, a fixture here too)
