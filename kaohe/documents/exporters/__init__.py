"""Importing this package registers every exporter."""

from kaohe.documents.exporters import (  # noqa: F401
    contacts,
    credentials,
    dispatches,
    outcomes,
    provincial,
    rectification,
    reports,
    review,
    tables,
)
