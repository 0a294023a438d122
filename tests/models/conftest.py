"""The models' tests read the small demo warehouse of tests/support/demo_warehouse.py, whose
fixtures (generated_warehouse, built_warehouse) tests/conftest.py shares with tests/report."""

from tests.support.demo_warehouse import AS_OF, SMALL, Warehouse  # noqa: F401
