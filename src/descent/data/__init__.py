"""Reading users' data files: CSV (with or without a header) and Parquet."""

from .tables import DataError, Table, read_table

__all__ = ["DataError", "Table", "read_table"]
