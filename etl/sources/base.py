"""What a source declares: its datasets (the clean staging shape each lands in the lake as),
its measures, how the CLI loads it, and its demo generator.

A source is one module that builds one `Source` (or `TabularSource`) value, listed once in
etl/sources/registry.py. Everything else is generated from that list: the `python -m etl
load` commands, the cube builders each dataset needs, the measures registry, the demo, and
`python -m etl rebuild`. Nothing here is mutated after import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

    from etl.demo.common import DemoContext
    from etl.measures.model import Measure
    from etl.sources.tabular import Schema

# How a dataset's rows become cube rows:
# - 'crime': crime records -> the category cube (cube_crime_month/day) and from it every crime
#   measure (cube_measure_month/day), plus the completeness picture (month_status);
# - 'outcome': data.police.uk outcome events: they re-cube their force's crime months;
# - 'force_month': force x month x category aggregates (other forces) -> the same cubes at
#   force level;
# - 'measures': rows of a service dataset -> each of its measures by the measure's SQL;
# - 'comparators': force x month x measure (num, den) aggregates -> cube_measure_month.
CubeKind = Literal["crime", "outcome", "force_month", "measures", "comparators"]


@dataclass(frozen=True)
class Dataset:
    name: str                    # the lake folder and lake_manifest.dataset
    columns: dict[str, str]      # column -> DuckDB type; always force_id and month
    noun: str                    # what a row is, in messages ("respondents")
    cube: CubeKind = "measures"
    day_sql: str | None = None   # SQL for a row's day; None: no day cube (stocks, months only)
    # Columns a source may leave out of its staged table (NULL in the lake when absent), so
    # adding one does not touch every reader: e.g. a crime's Home Office offence code.
    optional: dict[str, str] = field(default_factory=dict)

    @property
    def force_level(self) -> bool:
        """Rows of whole forces (the national comparators): the lake holds one file a month
        with every force of a load in it (etl/lake/layout.py `month_path`)."""
        return self.cube in ("force_month", "comparators")


Demo = Callable[["DemoContext"], dict[str, "pd.DataFrame"]]


@dataclass(frozen=True)
class Source:
    name: str                                  # registry key; `python -m etl load <name>`
    summary: str                               # one line for --help
    datasets: tuple[Dataset, ...]
    measures: Callable[[], list[Measure]] = field(default=lambda: [])
    # The shape of its `load` command: files/folders/zips ('files'), one CSV or query read
    # by the schema-driven reader ('tabular') or by its own parser ('extract'), or none.
    cli: Literal["files", "tabular", "extract", "none"] = "none"
    demo: Demo | None = None                   # frames of its datasets for the demo force


@dataclass(frozen=True)
class TabularSource(Source):
    """A source read by the one schema-driven reader (etl/sources/tabular.py): a CSV file or
    a SQL query, one row per record, all or nothing."""

    schema: Schema | None = None
    stage: dict[str, str] = field(default_factory=dict)  # dataset column -> SQL over row `t`
    unit_column: str = "npu"        # the input column naming the unit
    unit_levels: tuple[str, ...] = ("npu",)
    officer: bool = False           # rows may name an officer
    crime_links: bool = False       # incident_ref is matched against recorded crimes
    cli: Literal["files", "tabular", "extract", "none"] = "tabular"

    @property
    def dataset(self) -> Dataset:
        return self.datasets[0]
