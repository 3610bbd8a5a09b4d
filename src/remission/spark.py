"""``remission assess`` on Spark: the same derivations, grouped by a subject bucket.

    >>> from remission.spark import assess_spark
    >>> out = assess_spark({"subjects": spark.read.parquet(".../subjects"),
    ...                     "lesions": spark.read.parquet(".../lesions"),
    ...                     "treatments": spark.read.parquet(".../treatments")})
    >>> out["summary"].write.parquet(".../summary")

How (docs/scale.md "Spark"): every input DataFrame gets its 1-based row number and a
subject bucket ``pmod(xxhash64(trim(subject_id)), buckets)``; the tables are stacked into
one DataFrame (a ``__table`` tag, each table's columns prefixed by its name, native types
kept) and grouped by bucket with ``applyInArrow`` (``applyInPandas`` on Spark 3.5).  Each
group is exactly what :mod:`remission.batching` feeds the local engine for one batch: its
rows become the raw tables of :func:`remission.io.tables.frame_to_text` (with the rows of
the whole input), are validated by :func:`remission.io.validate.validate` and assessed by
:func:`remission.pipeline.assess`.  Because every derivation is per subject, the union
over buckets is the local engine's result, row for row.

Two passes, as in :mod:`remission.batching`: pass 1 validates every bucket and returns its
input errors and its latest date (small, collected on the driver); input errors raise
:class:`~remission.errors.InputErrors` like a local run (``skip_invalid`` drops the subjects
named); ``as_of`` is the option, else the latest date over all buckets.  Pass 2 assesses.

Outputs: ``assessments``, ``episodes``, ``summary`` as Spark DataFrames whose columns and
types are those of the local polars outputs (String -> string, Date -> date, Float64 ->
double, Int32 -> int, Int64 -> bigint, Boolean -> boolean).  A Spark DataFrame has no
order: sort with ``orderBy("subject_id", ...)`` where the order matters.

Choices: the row number of an input row is its position in the DataFrame as Spark reads
it (partition by partition, computed from ``monotonically_increasing_id``); it is the
Parquet file order for a single file.  Error file names are ``lesions (spark)``, ... .
The pass-2 result is persisted (memory and disk) so that the three outputs are computed
once; call ``unpersist`` on ``out["_combined"]`` when done.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Mapping

import polars as pl

from remission import schema
from remission.errors import InputError, InputErrors
from remission.extras import require as _require
from remission.options import AssessOptions

_require("spark", "remission.spark")

OUTPUTS = ("assessments", "episodes", "summary")
BUCKET = "__bucket__"
TABLE = "__table__"
ROWNUM = "__rownum__"
OUT = "__out__"
FILE_SUFFIX = " (spark)"
_ERROR_FIELDS = ("file", "row", "subject_id", "column", "value", "expected", "code")


# --------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------


def _spark_type(dtype: pl.DataType):
    from pyspark.sql import types as T

    if dtype == pl.String:
        return T.StringType()
    if dtype == pl.Date:
        return T.DateType()
    if dtype in (pl.Float64, pl.Float32):
        return T.DoubleType()
    if dtype == pl.Boolean:
        return T.BooleanType()
    if dtype in (pl.Int32, pl.Int16, pl.Int8, pl.UInt8, pl.UInt16):
        return T.IntegerType()
    if dtype in (pl.Int64, pl.UInt32, pl.UInt64):
        return T.LongType()
    if dtype == pl.Null:
        return T.StringType()
    raise TypeError(f"no Spark type for {dtype}")


@lru_cache(maxsize=1)
def output_schemas() -> dict[str, dict[str, pl.DataType]]:
    """The polars schema of each local output (from a run on the bundled example)."""
    from importlib.resources import files

    from remission.pipeline import assess

    result = assess(str(files("remission") / "data" / "example"))
    return {name: dict(getattr(result, name).schema) for name in OUTPUTS}


def _arrow_table(frame: pl.DataFrame, dtypes: Mapping[str, pl.DataType]):
    """``frame`` as a pyarrow table with Spark's Arrow types (``string``, not
    ``large_string``) for the declared columns."""
    import pyarrow as pa

    def arrow_type(t: pl.DataType):
        if t in (pl.String, pl.Null):
            return pa.string()
        if t == pl.Date:
            return pa.date32()
        if t in (pl.Float64, pl.Float32):
            return pa.float64()
        if t == pl.Boolean:
            return pa.bool_()
        if t in (pl.Int32, pl.Int16, pl.Int8, pl.UInt8, pl.UInt16):
            return pa.int32()
        return pa.int64()

    target = pa.schema([pa.field(c, arrow_type(t)) for c, t in dtypes.items()])
    return frame.select(list(dtypes)).to_arrow().cast(target)


def _polars_from_arrow(table) -> pl.DataFrame:
    return pl.from_arrow(table) if table.num_rows else pl.from_arrow(table.slice(0, 0))


# --------------------------------------------------------------------------------------
# Input: row numbers, buckets, one stacked DataFrame
# --------------------------------------------------------------------------------------


def _with_rownum(df):
    """1-based row number in Spark's read order (partition offsets + position)."""
    from pyspark.sql import functions as F

    mid = "__mid__"
    df = df.withColumn(mid, F.monotonically_increasing_id())
    part = (F.col(mid) / F.lit(1 << 33)).cast("long")
    counts = dict(df.select(part.alias("p")).groupBy("p").count().collect())
    offsets, acc = [], 0
    for p in sorted(counts):
        offsets.append((int(p), acc))
        acc += counts[p]
    if not offsets:
        return df.drop(mid).withColumn(ROWNUM, F.lit(None).cast("long"))
    spark = df.sparkSession
    table = spark.createDataFrame(offsets, "__p__ long, __offset__ long")
    df = df.withColumn("__p__", part).join(F.broadcast(table), on="__p__", how="left")
    pos = F.col(mid) - F.col("__p__") * F.lit(1 << 33)
    return df.withColumn(ROWNUM, F.col("__offset__") + pos + F.lit(1)).drop(mid, "__p__", "__offset__")


def _stack(tables: Mapping[str, Any], buckets: int):
    """One DataFrame of every table: tag, row number, bucket, prefixed native columns."""
    from functools import reduce

    from pyspark.sql import functions as F

    parts, columns = [], {}
    for name in schema.INPUT_TABLES:
        df = tables.get(name)
        if df is None:
            continue
        for c in df.columns:
            if c != c.strip():
                df = df.withColumnRenamed(c, c.strip())
        sid = F.trim(F.col("subject_id").cast("string")) if "subject_id" in df.columns else F.lit(None).cast("string")
        df = _with_rownum(df)
        columns[name] = [c for c in df.columns if c != ROWNUM]
        df = df.select(
            F.lit(name).alias(TABLE),
            F.col(ROWNUM),
            F.pmod(F.xxhash64(F.when(sid != "", sid)), F.lit(buckets)).alias(BUCKET),
            *[F.col(f"`{c}`").alias(f"{name}__{c}") for c in columns[name]],
        )
        parts.append(df)
    if "subjects" not in columns:
        raise InputErrors([InputError(f"subjects{FILE_SUFFIX}", None, None, None, None, "a subjects table", "MISSING_TABLE")])
    stacked = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)
    return stacked, columns


def _raw(frame: pl.DataFrame, columns: Mapping[str, list[str]]):
    """The group's rows as the local engine's raw text tables (rows of the whole input)."""
    from remission.io.tables import ROW, RawDataset, RawTable, frame_to_text

    tables, errors = {}, []
    for name, cols in columns.items():
        part = frame.filter(pl.col(TABLE) == name).sort(ROWNUM)
        file = f"{name}{FILE_SUFFIX}"
        data = part.select([pl.col(f"{name}__{c}").alias(c) for c in cols])
        text, errs = frame_to_text(data, file)
        errors.extend(errs)
        if text is not None:
            rows = part.get_column(ROWNUM).cast(pl.Int64)
            text = text.with_columns(rows.gather(text.get_column(ROW) - 1).alias(ROW))
            tables[name] = RawTable(name, file, text)
    return RawDataset(tables, tuple(errors))


def _validated(frame: pl.DataFrame, columns, options: AssessOptions):
    from remission.io import validate

    ds, errors = validate(_raw(frame, columns), criteria=options.criteria)
    if errors and options.skip_invalid and not any(e.subject_id is None for e in errors):
        invalid = {e.subject_id for e in errors}
        ds = ds.restrict([s for s in ds.subject_ids if s not in invalid])
    return ds, errors


# --------------------------------------------------------------------------------------
# The two passes (functions run on the executors)
# --------------------------------------------------------------------------------------


def _pass1(columns, options: AssessOptions):
    from remission.pipeline import _latest_date

    def run(table):
        ds, errors = _validated(_polars_from_arrow(table), columns, options)
        latest = _latest_date(ds)
        rows = [{"kind": "latest", "date": latest, **{f: None for f in _ERROR_FIELDS}}]
        for e in errors:
            rows.append({"kind": "error", "date": None, **{f: getattr(e, f) for f in _ERROR_FIELDS}})
        dtypes = {"kind": pl.String, "date": pl.Date, "file": pl.String, "row": pl.Int64, "subject_id": pl.String,
                  "column": pl.String, "value": pl.String, "expected": pl.String, "code": pl.String}
        return _arrow_table(pl.DataFrame(rows, schema=dtypes), dtypes)

    return run


def _pass1_schema():
    from pyspark.sql import types as T

    return T.StructType(
        [T.StructField("kind", T.StringType()), T.StructField("date", T.DateType())]
        + [T.StructField(f, T.LongType() if f == "row" else T.StringType()) for f in _ERROR_FIELDS]
    )


def _combined_schema(schemas: dict[str, dict[str, pl.DataType]]):
    from pyspark.sql import types as T

    fields = [T.StructField(OUT, T.StringType())]
    for name in OUTPUTS:
        fields += [T.StructField(f"{name}__{c}", _spark_type(t)) for c, t in schemas[name].items()]
    return T.StructType(fields)


def _combined_polars_schema(schemas) -> dict[str, pl.DataType]:
    out = {OUT: pl.String}
    for name in OUTPUTS:
        out.update({f"{name}__{c}": (pl.String if t == pl.Null else t) for c, t in schemas[name].items()})
    return out


def _pass2(columns, options: AssessOptions, schemas):
    from remission.pipeline import assess

    wide = _combined_polars_schema(schemas)

    def run(table):
        ds, _ = _validated(_polars_from_arrow(table), columns, options)
        result = assess(ds, options)
        parts = []
        for name in OUTPUTS:
            frame = getattr(result, name)
            parts.append(
                frame.select([pl.col(c).cast(t).alias(f"{name}__{c}") for c, t in schemas[name].items()])
                .with_columns(pl.lit(name).alias(OUT))
            )
        out = pl.concat(parts, how="diagonal_relaxed")
        out = out.select([pl.col(c).cast(t) if c in out.columns else pl.lit(None, dtype=t).alias(c) for c, t in wide.items()])
        return _arrow_table(out, wide)

    return run


def _apply(df, func, spark_schema):
    """``applyInArrow`` (Spark >= 4) or ``applyInPandas`` over the bucket groups."""
    grouped = df.groupBy(BUCKET)
    if hasattr(grouped, "applyInArrow"):
        return grouped.applyInArrow(func, spark_schema)

    import pyarrow as pa

    def via_pandas(pdf):  # Spark 3.5
        return func(pa.Table.from_pandas(pdf, preserve_index=False)).to_pandas()

    return grouped.applyInPandas(via_pandas, spark_schema)


def assess_spark(
    tables: Mapping[str, Any],
    options: AssessOptions | dict | None = None,
    *,
    buckets: int | None = None,
) -> dict[str, Any]:
    """Assess Spark DataFrames ``tables`` (``subjects`` required; ``lesions``, ``labs``,
    ``findings``, ``treatments``, ``responses`` optional; any column types, as
    :func:`remission.io.from_frames` accepts) and return ``{"assessments", "episodes",
    "summary"}`` as Spark DataFrames with the local outputs' schemas (plus ``"_combined"``,
    the persisted pass-2 result, and ``"as_of"``, the date used).

    ``buckets`` (default: ``spark.sql.shuffle.partitions``): number of subject groups, each
    assessed by one Python worker; choose it so that a bucket (about subjects/buckets
    subjects) fits a worker's memory, e.g. 50,000 subjects per bucket.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if options is None:
        options = AssessOptions()
    elif isinstance(options, dict):
        options = AssessOptions(**options)
    first = next(df for df in tables.values() if df is not None)
    spark = first.sparkSession
    if buckets is None:
        buckets = int(spark.conf.get("spark.sql.shuffle.partitions"))
    stacked, columns = _stack(tables, buckets)

    # pass 1: errors and latest dates
    found = _apply(stacked, _pass1(columns, options), _pass1_schema()).collect()
    from remission.io.validate import _error_order

    errors = sorted(
        {InputError(*(r[f] for f in _ERROR_FIELDS)) for r in found if r["kind"] == "error"}, key=_error_order
    )
    if errors and (not options.skip_invalid or any(e.subject_id is None for e in errors)):
        raise InputErrors(errors)
    dates = [r["date"] for r in found if r["kind"] == "latest" and r["date"] is not None]
    as_of: dt.date | None = options.as_of or (max(dates) if dates else None)
    run_options = options.model_copy(update={"as_of": as_of})

    # pass 2: assess every bucket
    schemas = output_schemas()
    combined = _apply(stacked, _pass2(columns, run_options, schemas), _combined_schema(schemas))
    combined = combined.persist(StorageLevel.MEMORY_AND_DISK)
    out: dict[str, Any] = {"_combined": combined, "as_of": as_of, "errors": errors}
    for name in OUTPUTS:
        out[name] = combined.filter(F.col(OUT) == name).select(
            [F.col(f"{name}__{c}").alias(c) for c in schemas[name]]
        )
    return out


def to_polars(df) -> pl.DataFrame:
    """A (small) Spark DataFrame as a polars frame, via Arrow."""
    if hasattr(df, "toArrow"):
        return pl.from_arrow(df.toArrow())
    return pl.from_pandas(df.toPandas())


__all__ = ["assess_spark", "output_schemas", "to_polars", "OUTPUTS"]
