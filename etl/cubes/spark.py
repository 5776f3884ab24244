"""The crime cubes built by Apache Spark: the scale-out path beside the embedded DuckDB build.

DuckDB (etl/cubes/crime.py, measures.py) stays the default: it builds every cube of a
national ten-year warehouse on one machine (docs/scaling.md). This module builds the same
cubes from the same Parquet lake with Spark, for a deployment whose lake has outgrown one
machine, and writes them as Parquet (one folder per cube) for a warehouse build to load or a
query engine to read. `python -m etl cubes --engine spark --out DIR` runs it; the test
tests/realdata/test_spark_cubes.py holds it equal to DuckDB's cubes, row for row.

What runs where: the driver reads the warehouse version's small tables (the lake manifest,
dim_lsoa, dim_unit, the harm weights) with DuckDB, read-only; Spark's executors read only the
lake's Parquet files, by the manifest's paths (so a superseded file still in the lake within
its grace period is never read twice), and do the joins and aggregations. On a cluster the
lake must be on storage every executor sees (`lake=` names it, e.g. an s3a:// URI).

The SQL mirrors DuckDB's statement for statement (same joins, same three-valued logic, same
rounding of harm to the hundredth), so a change to one must be made to the other: the test
fails otherwise.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from etl.lake.warehouse import WarehousePaths, connect_readonly
from etl.measures.kinds import KINDS
from etl.measures.model import Measure
from etl.measures.registry import MEASURES
from etl.sources.registry import DATASETS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CUBES = ("cube_crime_month", "cube_crime_day", "cube_measure_month", "cube_measure_day")
# The cubes' keys, in the order rows are sorted to compare or write them.
KEYS: dict[str, tuple[str, ...]] = {
    "cube_crime_month": ("source", "force_id", "unit_id", "level", "month", "category"),
    "cube_crime_day": ("source", "force_id", "unit_id", "level", "day", "category"),
    "cube_measure_month": ("dataset", "source", "force_id", "unit_id", "level", "month", "measure_id"),
    "cube_measure_day": ("dataset", "source", "force_id", "unit_id", "level", "day", "measure_id"),
}
LEVELS = (("force", "force_id"), ("bcu", "bcu_id"), ("npu", "npu_id"),
          ("team", "team_id"), ("officer", "officer_id"))


class SparkMissing(RuntimeError):
    """pyspark (the `spark` extra) or a Java runtime is not installed."""


@dataclass
class Inputs:
    """What the driver reads from one warehouse version: lake paths by dataset and source,
    and the small tables the facts are joined to."""

    crime: dict[str, list[str]] = field(default_factory=dict)       # source -> lake files
    outcome: list[str] = field(default_factory=list)
    force_month: dict[str, list[str]] = field(default_factory=dict)  # source -> lake files
    # the manifest's force_month rows, (source, force_id, 'YYYY-MM-DD', load_id): a month
    # file holds every force of its load, and only the forces listed for it count
    # (etl/lake/layout.py; etl.cubes.crime.listed_rows does the same for DuckDB)
    force_month_listed: list[tuple] = field(default_factory=list)
    lsoa: list[tuple] = field(default_factory=list)      # (force_id, lsoa_code, npu_id)
    units: list[tuple] = field(default_factory=list)     # (unit_id, parent_id, population)
    w_offence: list[tuple] = field(default_factory=list)   # (code, weight)
    w_category: list[tuple] = field(default_factory=list)  # (category, weight)


def read_inputs(link: Path, lake: str | None = None) -> Inputs:
    """The live version's manifest and dimensions. `lake`: where the executors find the lake
    (default: the warehouse's own lake folder); the manifest's paths are relative to it."""
    base = (lake or str(WarehousePaths(link).lake)).rstrip("/")
    con = connect_readonly(link)
    try:
        inputs = Inputs()
        for dataset, source, path in con.execute(
                "SELECT DISTINCT dataset, source, path FROM lake_manifest "
                "WHERE dataset IN ('crime', 'outcome', 'force_month') ORDER BY path").fetchall():
            full = f"{base}/{path}"
            if dataset == "outcome":
                inputs.outcome.append(full)
            else:
                getattr(inputs, dataset).setdefault(source, []).append(full)
        inputs.force_month_listed = con.execute(
            "SELECT source, force_id, strftime(month, '%Y-%m-%d'), load_id FROM lake_manifest "
            "WHERE dataset = 'force_month'").fetchall()
        inputs.lsoa = con.execute("SELECT force_id, lsoa_code, npu_id FROM dim_lsoa").fetchall()
        inputs.units = con.execute("SELECT unit_id, parent_id, population FROM dim_unit").fetchall()
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        # the same keys and casts as etl.cubes.crime.weights (one weight per key: checked there)
        for attr, table, key in (("w_offence", "ref_crime_severity", "upper(trim(code))"),
                                 ("w_category", "ref_crime_severity_category", "category")):
            if table in have:
                setattr(inputs, attr, con.execute(
                    f"SELECT key, any_value(weight) FROM (SELECT {key} AS key, "
                    f"TRY_CAST(weight AS DOUBLE) AS weight FROM {table}) GROUP BY key").fetchall())
        return inputs
    finally:
        con.close()


def session(master: str = "local[2]", shuffle_partitions: int = 4,
            app_name: str = "looking-glass-cubes") -> SparkSession:
    """A SparkSession for the build. Local mode (`local[N]`): no web UI, the driver bound to
    loopback (nothing listens beyond this machine), few shuffle partitions, a JVM tuned for a
    short run. Any other master (`yarn`, `spark://...`, or the one spark-submit was given) gets
    only the settings the cubes' correctness needs (UTC, ANSI); partitions, memory and the UI
    are the cluster's (spark-submit --conf)."""
    try:
        from pyspark.sql import SparkSession  # lazy: pyspark is the optional spark extra
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SparkMissing(
            "the Spark cube build needs pyspark: pip install '.[spark]' (and a Java 17+ runtime: "
            "scripts/ensure-java)") from exc
    if master.startswith("local") and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkMissing("the Spark cube build needs a Java 17+ runtime: run scripts/ensure-java "
                           "(apt-get install -y openjdk-17-jre-headless)")
    builder = (SparkSession.builder.appName(app_name).master(master)
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               # ANSI mode (Spark 4's default) would raise on an overflow DuckDB also raises on;
               # kept on: a silently wrapped count is worse than a failed build.
               .config("spark.sql.ansi.enabled", "true"))
    if master.startswith("local"):
        builder = (builder
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1")
                   # A local build is short: the JVM's client compiler only (no C2) and the
                   # serial collector halve its CPU (measured: 47 -> 27 s on the real files).
                   .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def local_session(master: str = "local[2]", shuffle_partitions: int = 4) -> Iterator[SparkSession]:
    spark = session(master, shuffle_partitions)
    try:
        yield spark
    finally:
        spark.stop()


# --------------------------------------------------------------------------- reading


_SPARK_TYPES = {"VARCHAR": "STRING", "DATE": "DATE", "BOOLEAN": "BOOLEAN", "DOUBLE": "DOUBLE",
                "BIGINT": "BIGINT"}


def lake_schema(dataset: str) -> str:
    """The lake files' schema, from the dataset's declaration (etl/sources/shapes.py): given
    to the reader, it skips Spark's schema-merging pass over every file, and a file written
    before an optional column existed reads it as NULL (DuckDB's union_by_name)."""
    ds = DATASETS[dataset]
    cols = {**ds.columns, **ds.optional}
    return ", ".join(f"{c} {_SPARK_TYPES[t]}" for c, t in cols.items())


def _read(spark: SparkSession, dataset: str, by_source: dict[str, list[str]]) -> DataFrame | None:
    """The lake files of every source, by name, with the partition's source as a column.
    Files are read by path, so no partition column is inferred from the folder names (the
    folders' `month=YYYY-MM` would override the files' typed `month`: docs/scaling.md)."""
    from pyspark.sql import functions as F  # lazy: pyspark is the optional spark extra

    frames = [spark.read.schema(lake_schema(dataset)).parquet(*paths).withColumn("source", F.lit(src))
              for src, paths in sorted(by_source.items()) if paths]
    if not frames:
        return None
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def _small(spark: SparkSession, rows: list[tuple], schema: str) -> DataFrame:
    """A small driver-side table as a broadcast DataFrame. Sent as an Arrow table: a list of
    tuples would be unpickled by Python worker processes Spark starts for the purpose."""
    from pyspark.sql import functions as F  # lazy: pyspark is the optional spark extra

    names = [c.split()[0] for c in schema.split(",")]
    types = {"STRING": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64()}
    arrow = pa.table({name: pa.array([r[i] for r in rows], types[c.split()[1]])
                      for i, (name, c) in enumerate(zip(names, schema.split(","), strict=True))})
    return F.broadcast(spark.createDataFrame(arrow, schema))


def _views(spark: SparkSession, inputs: Inputs) -> bool:
    """Temp views `_f` (crime facts), `_d` (sanction-detected crime ids), the dimensions and
    weights. False when there are no crime records."""
    facts = _read(spark, "crime", inputs.crime)
    if facts is None:
        return False
    facts.createOrReplaceTempView("_f")
    if inputs.outcome:
        (spark.read.schema(lake_schema("outcome")).parquet(*inputs.outcome)
         .where("sanction").select("force_id", "crime_id").distinct().createOrReplaceTempView("_d"))
    else:
        spark.createDataFrame([], "force_id STRING, crime_id STRING").createOrReplaceTempView("_d")
    _small(spark, inputs.lsoa, "force_id STRING, lsoa_code STRING, npu_id STRING"
           ).createOrReplaceTempView("_lsoa")
    _small(spark, inputs.units, "unit_id STRING, parent_id STRING, population BIGINT"
           ).createOrReplaceTempView("_unit")
    _small(spark, inputs.w_offence, "code STRING, weight DOUBLE").createOrReplaceTempView("_w_offence")
    _small(spark, inputs.w_category, "category STRING, weight DOUBLE").createOrReplaceTempView("_w_category")
    return True


# --------------------------------------------------------------------------- crime cubes


def crime_cubes(spark: SparkSession, inputs: Inputs) -> dict[str, DataFrame]:
    """cube_crime_month and cube_crime_day of the whole lake: etl.cubes.crime.rebuild_crime
    over every crime partition, plus rebuild_force_month over every force x month aggregate."""
    from pyspark import StorageLevel  # lazy: pyspark is the optional spark extra

    empty_month = spark.createDataFrame([], _schema("cube_crime_month"))
    empty_day = spark.createDataFrame([], _schema("cube_crime_day"))
    month, day = empty_month, empty_day
    if _views(spark, inputs):
        spark.sql(
            """SELECT f.source, f.force_id, f.month, f.date, f.category,
                   -- outcomes files are data.police.uk's: they speak for police.uk crimes only
                   CAST(f.sanction OR (d.crime_id IS NOT NULL AND NOT f.is_asb
                                       AND f.source = 'police_uk') AS INT) AS sd,
                   coalesce(f.npu_id, l.npu_id) AS npu_id,
                   n.parent_id AS bcu_id, f.team_id, f.officer_id,
                   CASE WHEN f.is_asb THEN 0D ELSE coalesce(wo.weight, wc.weight, 0D) END AS w,
                   CAST((NOT f.is_asb AND wo.weight IS NULL) AS INT) AS w_approx
            FROM _f f
            LEFT JOIN _w_offence wo ON wo.code = upper(trim(f.offence_code))
            LEFT JOIN _w_category wc ON wc.category = f.category
            LEFT JOIN _lsoa l ON l.force_id = f.force_id AND l.lsoa_code = f.lsoa_code
            LEFT JOIN _d d ON d.force_id = f.force_id AND d.crime_id = f.crime_id
            LEFT JOIN _unit n ON n.unit_id = coalesce(f.npu_id, l.npu_id)"""
        ).createOrReplaceTempView("_facts")
        # Each crime counts at every level it has a unit for: one pass over the facts (a
        # generator), where DuckDB unions five scans of its materialised temp table.
        pairs = ", ".join(f"'{lvl}', {col}" for lvl, col in LEVELS)
        levels = spark.sql(
            f"""SELECT source, force_id, unit_id, level, month, date, category, sd, w, w_approx
                FROM (SELECT *, stack({len(LEVELS)}, {pairs}) AS (level, unit_id) FROM _facts)
                WHERE unit_id IS NOT NULL""")
        # read by both cubes: computed once
        levels.persist(StorageLevel.MEMORY_AND_DISK).createOrReplaceTempView("_levels")
        measures = ("count(*) AS n, sum(sd) AS sd, round(sum(w), 2) AS harm, "
                    "round(sum(w * w), 2) AS harm2, sum(w_approx) AS harm_approx")
        month = spark.sql(
            f"""SELECT source, force_id, unit_id, level, month, category, {measures}
                FROM _levels GROUP BY source, force_id, unit_id, level, month, category""")
        day = spark.sql(
            f"""SELECT source, force_id, unit_id, level, date AS day, category, {measures}
                FROM _levels WHERE date IS NOT NULL AND level <> 'officer'
                GROUP BY source, force_id, unit_id, level, date, category""")
    aggregates = _read(spark, "force_month", inputs.force_month)
    if aggregates is not None:
        from pyspark.sql import functions as F  # lazy: pyspark is the optional spark extra

        listed = _small(spark, inputs.force_month_listed,
                        "source STRING, force_id STRING, month STRING, load_id STRING")
        aggregates = (aggregates
                      .withColumn("load_id", F.regexp_extract(F.input_file_name(),
                                                               r"([^/]+)\.parquet$", 1))
                      .withColumn("_m", F.date_format("month", "yyyy-MM-dd"))
                      .join(listed.withColumnRenamed("month", "_m"),
                            ["source", "force_id", "_m", "load_id"], "left_semi"))
        if not inputs.crime:  # the category weights' view is made with the facts' views
            _small(spark, inputs.w_category, "category STRING, weight DOUBLE"
                   ).createOrReplaceTempView("_w_category")
        aggregates.createOrReplaceTempView("_fm")
        # aggregates carry categories only: harm by the category weights (approximate)
        month = month.unionByName(spark.sql(
            """SELECT a.source, a.force_id, a.force_id AS unit_id, 'force' AS level, a.month,
                      a.category, sum(a.n) AS n, sum(a.sd) AS sd,
                      sum(a.n) * coalesce(any_value(w.weight), 0D) AS harm,
                      sum(a.n) * coalesce(any_value(w.weight) * any_value(w.weight), 0D) AS harm2,
                      CASE WHEN a.category = 'anti-social-behaviour' THEN 0 ELSE sum(a.n) END
                          AS harm_approx
               FROM _fm a LEFT JOIN _w_category w ON w.category = a.category
                    AND a.category <> 'anti-social-behaviour'
               GROUP BY a.source, a.force_id, a.month, a.category"""))
    return {"cube_crime_month": _typed(month, "cube_crime_month"),
            "cube_crime_day": _typed(day, "cube_crime_day")}


# --------------------------------------------------------------------------- crime measures


def crime_measure_cubes(spark: SparkSession, crime: dict[str, DataFrame], inputs: Inputs,
                        measures: list[Measure] | None = None) -> dict[str, DataFrame]:
    """cube_measure_month / cube_measure_day rows of dataset 'crime', from the category cubes:
    etl.cubes.measures.rebuild_crime_measures over every partition. Every unit-period with a
    category-cube row gets a row for every crime measure (num 0 where none of its categories
    occurred)."""
    from pyspark.sql import functions as F  # lazy: pyspark is the optional spark extra

    measures = sorted(measures if measures is not None else
                      [m for m in MEASURES.values() if m.dataset == "crime"], key=lambda m: m.id)
    units = _small(spark, inputs.units, "unit_id STRING, parent_id STRING, population BIGINT")
    out: dict[str, DataFrame] = {}
    for table, src, period in (("cube_measure_month", "cube_crime_month", "month"),
                               ("cube_measure_day", "cube_crime_day", "day")):
        cube = crime[src].alias("c").join(units.alias("u"), F.col("u.unit_id") == F.col("c.unit_id"), "left")
        aggs = []
        for i, m in enumerate(measures):
            inside = F.col("c.category").isin(list(m.categories))
            value = {"sd": "c.sd", "harm": "c.harm"}.get(m.column, "c.n")
            num = F.sum(F.when(inside, F.col(value)))
            aggs.append((F.round(num, 2) if m.column == "harm" else num.cast("double")).alias(f"n{i}"))
            aggs.append((F.round(F.sum(F.when(inside, F.col("c.harm2"))), 2) if m.column == "harm"
                         else F.lit(None).cast("double")).alias(f"s{i}"))
            den = KINDS[m.kind].denominator
            if den == "crimes":
                d = F.sum(F.when(inside, F.col("c.n"))).cast("double")
            elif den == "population":
                d = F.any_value(F.col("u.population")).cast("double")
            else:
                d = F.lit(None).cast("double")
            aggs.append(d.alias(f"d{i}"))
        grouped = cube.groupBy(F.col("c.source").alias("source"), F.col("c.force_id").alias("force_id"),
                               F.col("c.unit_id").alias("unit_id"), F.col("c.level").alias("level"),
                               F.col(f"c.{period}").alias(period)).agg(*aggs)
        rows = F.explode(F.array(*[
            F.struct(F.lit(m.id).alias("measure_id"),
                     F.coalesce(F.col(f"n{i}"), F.lit(0.0)).alias("num"),
                     F.col(f"d{i}").alias("den"),
                     (F.coalesce(F.col(f"s{i}"), F.lit(0.0)) if m.column == "harm"
                      else F.lit(None).cast("double")).alias("num2"))
            for i, m in enumerate(measures)])).alias("r")
        exploded = grouped.select("source", "force_id", "unit_id", "level", period, rows)
        out[table] = _typed(exploded.select(
            F.lit("crime").alias("dataset"), "source", "force_id", "unit_id", "level", period,
            "r.measure_id", "r.num", "r.den", "r.num2", F.lit(None).cast("double").alias("den2")),
            table)
    return out


# --------------------------------------------------------------------------- build and write

_TYPES = {"source": "string", "force_id": "string", "unit_id": "string", "level": "string",
          "month": "date", "day": "date", "category": "string", "n": "bigint", "sd": "bigint",
          "harm": "double", "harm2": "double", "harm_approx": "bigint", "dataset": "string",
          "measure_id": "string", "num": "double", "den": "double", "num2": "double",
          "den2": "double"}
COLUMNS = {
    "cube_crime_month": KEYS["cube_crime_month"] + ("n", "sd", "harm", "harm2", "harm_approx"),
    "cube_crime_day": KEYS["cube_crime_day"] + ("n", "sd", "harm", "harm2", "harm_approx"),
    "cube_measure_month": KEYS["cube_measure_month"] + ("num", "den", "num2", "den2"),
    "cube_measure_day": KEYS["cube_measure_day"] + ("num", "den", "num2", "den2"),
}


def _schema(table: str) -> str:
    return ", ".join(f"{c} {_TYPES[c].upper()}" for c in COLUMNS[table])


def _typed(df: DataFrame, table: str) -> DataFrame:
    """The warehouse table's columns, in its order and with its types."""
    from pyspark.sql import functions as F  # lazy: pyspark is the optional spark extra

    return df.select(*[F.col(c).cast(_TYPES[c]).alias(c) for c in COLUMNS[table]])


def build(spark: SparkSession, inputs: Inputs) -> dict[str, DataFrame]:
    """Every cube this module builds, as lazy DataFrames (nothing runs until they are read)."""
    crime = crime_cubes(spark, inputs)
    # The category cubes are read twice (written, and summed into the measures): cache them.
    crime = {k: v.cache() for k, v in crime.items()}
    return {**crime, **crime_measure_cubes(spark, crime, inputs)}


def write(cubes: dict[str, DataFrame], out: str) -> dict[str, int]:
    """Each cube as Parquet under out/<cube>/ (replacing what was there); rows per cube."""
    counts = {}
    for name, df in cubes.items():
        target = f"{out.rstrip('/')}/{name}"
        df.sortWithinPartitions(*KEYS[name]).write.mode("overwrite").parquet(target)
        # counted from the written files' footers, not by building the cube a second time
        counts[name] = df.sparkSession.read.parquet(target).count()
    return counts


def export_duckdb(link: Path, out: str) -> dict[str, int]:
    """The live version's cubes, as DuckDB built them at load time, in the layout `write` gives
    Spark's (out/<cube>/, the measure cubes' crime rows): the two can be compared with any
    Parquet reader, e.g. on a cluster where the test does not run."""
    con = connect_readonly(link)
    counts = {}
    try:
        for name in CUBES:
            folder = Path(out) / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            where = "WHERE dataset = 'crime'" if name.startswith("cube_measure") else ""
            table = con.sql(f"SELECT {', '.join(COLUMNS[name])} FROM {name} {where} "
                            f"ORDER BY {', '.join(KEYS[name])}").to_arrow_table()
            pq.write_table(table, folder / "part-00000.parquet")
            counts[name] = table.num_rows
    finally:
        con.close()
    return counts


def build_to(link: Path, out: str, master: str = "local[2]", lake: str | None = None,
             shuffle_partitions: int = 4) -> dict[str, int]:
    """The CLI's entry: read the warehouse at `link`, build with Spark, write to `out`."""
    inputs = read_inputs(link, lake)
    with local_session(master, shuffle_partitions) as spark:
        return write(build(spark, inputs), out)
