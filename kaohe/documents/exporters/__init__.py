"""Importing this package registers every exporter."""

from kaohe.documents.exporters import outcomes, reports, review, tables  # noqa: F401
