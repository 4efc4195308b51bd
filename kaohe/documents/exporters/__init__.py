"""Importing this package registers every exporter."""

from kaohe.documents.exporters import (  # noqa: F401
    outcomes,
    provincial,
    rectification,
    reports,
    review,
    tables,
)
