"""The MIMIC-IV tables cxrdb knows (``tables.tsv``) and the BigQuery datasets that name them (``datasets.tsv``).

Both are data files beside this module: what a table's columns are called and typed, which tables are imported
into the catalog (the ones the linking views read), and which BigQuery dataset answers to which local schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from ..errors import CxrdbError

#: PhysioNet's module folders (hosp/, icu/, ed/) → the local schema holding their tables.
MODULE_SCHEMAS: dict[str, str] = {"hosp": "mimiciv_hosp", "icu": "mimiciv_icu", "ed": "mimiciv_ed"}


@dataclass(frozen=True)
class ColumnSpec:
    """One documented column: name, DuckDB type, the name MIMIC-IV v1 used (or None), whether it may be absent."""

    name: str
    type: str
    older_name: str | None = None
    optional: bool = False


def _column(text: str) -> ColumnSpec:
    optional = text.endswith("?")
    parts = text.rstrip("?").split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise CxrdbError(f"cxrdb/mimiciv/tables.tsv: bad column {text!r}")
    return ColumnSpec(parts[0], parts[1], parts[2] if len(parts) == 3 else None, optional)


@dataclass(frozen=True)
class TableSpec:
    """One MIMIC-IV table: its module folder, name, whether it is imported, and its columns in file order."""

    module: str
    name: str
    imported: bool
    specs: tuple[ColumnSpec, ...]

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """(name, DuckDB type) of every column, in file order."""
        return tuple((c.name, c.type) for c in self.specs)

    @property
    def schema(self) -> str:
        """The local schema: ``mimiciv_hosp``, ``mimiciv_icu`` or ``mimiciv_ed``."""
        return MODULE_SCHEMAS[self.module]

    @property
    def qualified(self) -> str:
        """``mimiciv_hosp.admissions``."""
        return f"{self.schema}.{self.name}"



def _rows(name: str) -> list[list[str]]:
    text = (files("cxrdb") / "mimiciv" / name).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return rows[1:]  # the header line


@cache
def tables() -> dict[tuple[str, str], TableSpec]:
    """Every known table keyed by (module, name), from ``tables.tsv``."""
    out: dict[tuple[str, str], TableSpec] = {}
    for module, name, imported, columns in _rows("tables.tsv"):
        if module not in MODULE_SCHEMAS or imported not in ("yes", "no"):
            raise CxrdbError(f"cxrdb/mimiciv/tables.tsv: bad row for {module}/{name}")
        out[(module, name)] = TableSpec(module, name, imported == "yes", tuple(map(_column, columns.split(","))))
    return out


def imported_tables() -> list[TableSpec]:
    """The tables copied into the catalog (the linking views read them), in file order."""
    return [t for t in tables().values() if t.imported]


@cache
def dataset_patterns() -> tuple[tuple[re.Pattern[str], str, bool], ...]:
    """(pattern of a BigQuery dataset name, local schema, whether the name carries a version), from datasets.tsv."""
    out = []
    for dataset, schema in _rows("datasets.tsv"):
        versioned = "{v}" in dataset
        regex = re.escape(dataset).replace(re.escape("{v}"), r"(?P<v>\d+(?:_\d+)*)")
        out.append((re.compile(f"^{regex}$", re.I), schema, versioned))
    return tuple(out)


def local_schema(dataset: str, version: str | None) -> str | None:
    """The local schema a BigQuery MIMIC-IV dataset maps to, or None when it is not a MIMIC-IV dataset.

    ``version`` is the attached MIMIC-IV version ('3.1'); a versioned name of another version is an error
    (an unknown attached version accepts any).
    """
    for pattern, schema, versioned in dataset_patterns():
        match = pattern.match(dataset)
        if not match:
            continue
        if versioned and version is not None and match["v"] != version.replace(".", "_"):
            raise CxrdbError(f"{dataset} is MIMIC-IV {match['v'].replace('_', '.')}, but the catalog has "
                             f"MIMIC-IV {version} attached (mimiciv_{version.replace('.', '_')}_*)")
        return schema
    return None
