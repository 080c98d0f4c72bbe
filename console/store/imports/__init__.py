"""Imports of members, orders and social actions from CSV or JSON Lines (导入).

``import_file`` reads a whole file, validates every row, and applies all of it in one
transaction, or nothing; with ``skip_bad`` it applies the good rows and writes the rejected
ones, with their reasons, to a rejects file. Re-importing a file adds nothing twice.
"""

from console.store.imports.mapping import ImportOptions, MappingError, load_mapping_file, parse_map
from console.store.imports.runner import KINDS, ImportReport, import_file

__all__ = [
    "KINDS",
    "ImportOptions",
    "ImportReport",
    "MappingError",
    "import_file",
    "load_mapping_file",
    "parse_map",
]
