"""BigQuery SQL → DuckDB SQL, so the queries users run on ``physionet-data`` run on a local catalog.

sqlglot does the translation (BigQuery dialect in, DuckDB out); the transforms here fix what it gets
wrong and map the project's datasets onto local schemas. Plain DuckDB SQL passes through untouched.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from .errors import CxrdbError

#: The BigQuery project whose datasets the catalog mirrors.
PROJECT = "physionet-data"

#: BigQuery dataset in ``physionet-data`` → local schema of the same tables (see sql/40_mimic_cxr).
DATASETS: dict[str, str] = {
    "mimic_cxr": "mimic_cxr",
}

DIALECTS = ("auto", "bigquery", "duckdb")

#: ``mimic_iv=`` of :func:`to_duckdb` when no catalog says what is attached: every MIMIC-IV name is mapped.
ANY_VERSION = "any"
_MIMIC_IV: ContextVar[str | None] = ContextVar("mimic_iv", default=ANY_VERSION)

# Comments, string literals and quoted identifiers, so that detection never looks inside a string or comment.
_LEXEME = re.compile(
    r"""(?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
      | (?P<string>[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:''|\\.|[^'\\])*'))
      | (?P<dquoted>"(?:""|[^"])*")
      | (?P<backtick>`[^`]*`)""",
    re.S | re.X,
)
_PROJECT_WORD = re.compile(rf"(?<![\w-]){re.escape(PROJECT)}(?![\w-])", re.I)


def detect_dialect(sql: str) -> str:
    """'bigquery' when the query quotes names with backticks or names ``physionet-data``, else 'duckdb'."""
    pos = 0
    for match in _LEXEME.finditer(sql):
        if _PROJECT_WORD.search(sql, pos, match.start()):
            return "bigquery"
        if match.lastgroup == "backtick":
            return "bigquery"
        if match.lastgroup == "dquoted" and _PROJECT_WORD.search(match.group()):
            return "bigquery"
        pos = match.end()
    return "bigquery" if _PROJECT_WORD.search(sql, pos) else "duckdb"


def to_duckdb(sql: str, dialect: str = "auto", *, mimic_iv: str | None = ANY_VERSION) -> str:
    """The DuckDB SQL to run for ``sql`` written in ``dialect`` (auto: see :func:`detect_dialect`).

    ``mimic_iv`` is the catalog's attached MIMIC-IV version ('3.1'; '' unknown; None: nothing attached, so a
    MIMIC-IV name is refused); versioned names of another version are refused.
    """
    if dialect not in DIALECTS:
        raise CxrdbError(f"unknown dialect {dialect!r}: use {', '.join(DIALECTS)}")
    if dialect == "auto":
        dialect = detect_dialect(sql)
    return translate_bigquery(sql, mimic_iv=mimic_iv) if dialect == "bigquery" else sql


def translate_bigquery(sql: str, *, mimic_iv: str | None = ANY_VERSION) -> str:
    """Translate BigQuery SQL to DuckDB SQL (every statement); errors are one-line CxrdbErrors."""
    token = _MIMIC_IV.set(mimic_iv)
    try:
        return _translate(sql)
    finally:
        _MIMIC_IV.reset(token)


def _translate(sql: str) -> str:
    try:
        trees = sqlglot.parse(sql, read="bigquery")
    except SqlglotError as exc:
        raise CxrdbError(f"BigQuery SQL error: {_first_line(exc)}") from None
    out = []
    for tree in trees:
        if tree is None:
            continue
        tree = _rewrite_tree(tree)
        try:
            out.append(tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE))
        except SqlglotError as exc:
            raise CxrdbError(f"cannot translate this BigQuery SQL to DuckDB: {_first_line(exc)}") from None
    return ";\n".join(out)


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return re.sub(r"\x1b\[[0-9;]*m", "", lines[0] if lines else type(exc).__name__)[:300]


# -- transforms: each takes a node and returns its replacement (or the node itself) --------------------
def _rewrite_tree(tree: exp.Expression) -> exp.Expression:
    """Apply :data:`TRANSFORMS` to every node, children before parents (so a rewritten FORMAT keeps its
    rewritten SUBSTR arguments)."""
    for node in reversed(list(tree.dfs())):
        new = node
        for transform in TRANSFORMS:
            new = transform(new)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def _local_dataset(dataset: str) -> str | None:
    """The local schema of a BigQuery dataset: :data:`DATASETS`, or MIMIC-IV's names (cxrdb/mimiciv/datasets.tsv)."""
    if dataset in DATASETS:
        return DATASETS[dataset]
    from .mimiciv.schema import local_schema

    version = _MIMIC_IV.get()
    schema = local_schema(dataset, None if version in (ANY_VERSION, None, "") else version)
    if schema is not None and version is None:
        raise CxrdbError(f"{dataset}: no MIMIC-IV is attached to this catalog "
                         "(run `cxrdb attach mimic-iv DIR --db CATALOG` first)")
    return schema


def map_tables(node: exp.Expression) -> exp.Expression:
    """``physionet-data.mimic_cxr.x`` (any quoting) → ``mimic_cxr.x``, per :data:`DATASETS`; MIMIC-IV's datasets
    (``mimiciv_3_1_hosp.x``, ``mimic_core.x``…) → their local schemas."""
    if not isinstance(node, exp.Table):
        return node
    catalog, dataset = node.catalog, node.db
    if catalog.lower() == PROJECT:
        local = _local_dataset(dataset)
        if local is None:
            known = ", ".join(f"{PROJECT}.{d}" for d in DATASETS)
            raise CxrdbError(f"{PROJECT}.{dataset} is not in this catalog (it has {known} and, when attached, "
                             "MIMIC-IV's mimiciv_hosp, mimiciv_icu, mimiciv_ed, mimiciv_<version>_*, mimic_core...)")
        node = node.copy()
        node.set("catalog", None)
        node.set("db", exp.to_identifier(local))
        node.set("this", exp.to_identifier(node.name))  # unquoted when it is a plain name
    elif not catalog and dataset:
        local = _local_dataset(dataset)
        if local is not None and local != dataset:
            node = node.copy()
            node.set("db", exp.to_identifier(local))
    return node


_FORMAT_SPEC = re.compile(r"%(?P<flags>[-+ #0']*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?(?P<conv>[a-zA-Z%])")


def format_to_printf(node: exp.Expression) -> exp.Expression:
    """BigQuery ``FORMAT('%s…', …)`` is printf-like; DuckDB's FORMAT is ``{}``-style: use PRINTF.

    %s and %t take any type in BigQuery (DuckDB's %s only strings), so their arguments are cast to VARCHAR;
    %t prints NULL as 'NULL'.
    """
    if not isinstance(node, exp.Format):
        return node
    fmt = node.this
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise CxrdbError("FORMAT needs a literal format string to translate to DuckDB")
    args = list(node.expressions)
    text, index, out = fmt.this, 0, []
    for spec in _FORMAT_SPEC.finditer(text):
        conv = spec.group("conv")
        if conv == "%":
            continue
        if "*" in (spec.group("width") or "") + (spec.group("prec") or ""):
            raise CxrdbError("FORMAT with '*' width or precision is not translated to DuckDB")
        if index < len(args) and conv in "st":
            arg = exp.cast(args[index].copy(), exp.DataType.build("VARCHAR"))
            args[index] = exp.func("COALESCE", arg, exp.Literal.string("NULL")) if conv == "t" else arg
        out.append(conv)
        index += 1
    if "T" in out:
        raise CxrdbError("FORMAT %T (SQL literal) is not translated to DuckDB")
    new_fmt = _FORMAT_SPEC.sub(lambda m: m.group().replace("t", "s") if m.group("conv") == "t" else m.group(), text)
    return exp.Anonymous(this="PRINTF", expressions=[exp.Literal.string(new_fmt), *args])


def substr_positions(node: exp.Expression) -> exp.Expression:
    """BigQuery SUBSTR starts at 1 when the position is 0 or before the start (< -LENGTH); DuckDB does not."""
    if not isinstance(node, exp.Substring):
        return node
    start = node.args.get("start")
    if start is None or (isinstance(start, exp.Literal) and not start.is_string and int(start.this) > 0):
        return node
    node = node.copy()
    if isinstance(start, exp.Literal) and not start.is_string and int(start.this) == 0:
        node.set("start", exp.Literal.number(1))
        return node
    length = exp.func("LENGTH", node.this.copy())
    off_left = exp.or_(exp.EQ(this=start.copy(), expression=exp.Literal.number(0)),
                       exp.LT(this=start.copy(), expression=exp.Neg(this=length)))
    node.set("start", exp.If(this=off_left, true=exp.Literal.number(1), false=start.copy()))
    return node


def array_agg_limit(node: exp.Expression) -> exp.Expression:
    """``ARRAY_AGG(x ORDER BY y LIMIT n)`` (no LIMIT there in DuckDB) → ``LIST_SLICE(ARRAY_AGG(…), 1, n)``."""
    if not isinstance(node, exp.ArrayAgg) or not isinstance(node.this, exp.Limit):
        return node
    limit = node.this
    count = limit.expression
    agg = node.copy()
    agg.set("this", limit.this.copy())
    return exp.Anonymous(this="LIST_SLICE", expressions=[agg, exp.Literal.number(1), count.copy()])


def dayofweek_from_one(node: exp.Expression) -> exp.Expression:
    """BigQuery ``EXTRACT(DAYOFWEEK …)`` is 1 (Sunday) … 7; DuckDB's is 0 … 6."""
    if isinstance(node, exp.Extract) and node.this.name.upper() == "DAYOFWEEK":
        return exp.Paren(this=exp.Add(this=node.copy(), expression=exp.Literal.number(1)))
    return node


def numeric_precision(node: exp.Expression) -> exp.Expression:
    """BigQuery NUMERIC is DECIMAL(38, 9); DuckDB's bare DECIMAL is (18, 3)."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DECIMAL and not node.expressions:
        return exp.DataType.build("DECIMAL(38, 9)", dialect="duckdb")
    return node


def safe_prefix(node: exp.Expression) -> exp.Expression:
    """``SAFE.fn(…)`` (NULL instead of an error) → DuckDB's ``TRY(fn(…))``."""
    if isinstance(node, exp.SafeFunc):
        return exp.Anonymous(this="TRY", expressions=[node.this])
    return node


def unnest_offset_from_zero(node: exp.Expression) -> exp.Expression:
    """``UNNEST(a) AS x WITH OFFSET AS o`` counts o from 0; sqlglot's ``WITH ORDINALITY`` counts from 1.

    Becomes ``(SELECT UNNEST(a) AS x, GENERATE_SUBSCRIPTS(a, 1) - 1 AS o) AS x`` (DuckDB subqueries are lateral).
    """
    if not isinstance(node, exp.Unnest) or not isinstance(node.args.get("offset"), exp.Identifier):
        return node
    alias = node.args.get("alias")
    columns = alias.columns if alias else []
    if len(node.expressions) != 1 or len(columns) != 1:
        return node
    array, value, offset = node.expressions[0], columns[0], node.args["offset"]
    select = exp.select(
        exp.alias_(exp.Anonymous(this="UNNEST", expressions=[array.copy()]), value.copy()),
        exp.alias_(exp.Sub(this=exp.Anonymous(this="GENERATE_SUBSCRIPTS",
                                              expressions=[array.copy(), exp.Literal.number(1)]),
                           expression=exp.Literal.number(1)), offset.copy()),
    )
    return exp.Subquery(this=select, alias=exp.TableAlias(this=value.copy()))


def parse_time_once(node: exp.Expression) -> exp.Expression:
    """``PARSE_TIME(fmt, s)`` → ``CAST(STRPTIME(s, fmt) AS TIME)``: sqlglot's own translation shifts an array
    index inside ``s`` twice (``SPLIT(t, '.')[OFFSET(0)]`` became ``[2]``, the fraction instead of HHMMSS)."""
    if not isinstance(node, exp.ParseTime) or not isinstance(node.args.get("format"), exp.Literal):
        return node
    strptime = exp.Anonymous(this="STRPTIME", expressions=[node.this.copy(), node.args["format"].copy()])
    return exp.cast(strptime, exp.DataType.build("TIME"))


TRANSFORMS = (map_tables, parse_time_once, unnest_offset_from_zero, format_to_printf, substr_positions, array_agg_limit,
              dayofweek_from_one, numeric_precision, safe_prefix)
