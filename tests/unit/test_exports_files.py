"""Issue 14 item 7: XLSX exports hold the CSV's cells (formula cells neutralised the same way),
and the one chart config offers no upload to a third party."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd

from dashboard import exports
from dashboard.components.charts import GRAPH_CONFIG, finding


def test_xlsx_holds_the_csv_cells_typed_and_formula_safe() -> None:
    frame = pd.DataFrame({
        "unit": ["=HYPERLINK(\"http://x\")", "Widnes", "-3 people", None],
        "count": [12, 0, -3, 7],
        "rate": [1.5, float("nan"), -0.25, 2.0],
        "flag": [True, False, True, False],
        "month": [date(2007, 4, 1), date(2007, 5, 1), None, date(2007, 7, 1)],
        "=sum(a1)": ["a", "b", "c", "d"],
    })
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(frame)))
    rows = [[c for c in r] for r in book.active.iter_rows()]
    header = [c.value for c in rows[0]]
    assert header == ["unit", "count", "rate", "flag", "month", "'=sum(a1)"]
    first = rows[1]
    # the formula is text, with the CSV's leading apostrophe: never evaluated
    assert first[0].value == "'=HYPERLINK(\"http://x\")" and first[0].data_type == "s"
    assert [c.value for c in first[1:4]] == [12, 1.5, True] and first[1].data_type == "n"
    assert first[4].value == "2007-04-01"
    assert rows[3][0].value == "'-3 people" and rows[3][1].value == -3  # text made safe, numbers not
    assert rows[2][2].value is None  # NaN is an empty cell
    assert len(rows) == 5


def test_xlsx_and_csv_agree_cell_for_cell() -> None:
    frame = pd.DataFrame({"a": ["+1", "@x", "ok"], "b": [1.0, 2.5, -1.0]})
    csv_cells = [line.split(",") for line in exports.to_csv(frame).strip().split("\r\n")]
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(frame)))
    xlsx_cells = [[c.value for c in r] for r in book.active.iter_rows()]
    assert [r[0] for r in xlsx_cells] == [r[0] for r in csv_cells]
    assert [float(r[1]) for r in xlsx_cells[1:]] == [float(r[1]) for r in csv_cells[1:]]


def test_xlsx_drops_characters_a_workbook_cannot_hold() -> None:
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(pd.DataFrame({"a": ["x\x01y\x1fz"]}))))
    assert book.active["A2"].value == "xyz"


def test_the_chart_config_offers_no_cloud_link_logo_or_client_image() -> None:
    assert GRAPH_CONFIG["displaylogo"] is False
    assert GRAPH_CONFIG["showLink"] is False and GRAPH_CONFIG["showSendToCloud"] is False
    assert GRAPH_CONFIG["showEditInChartStudio"] is False
    assert {"sendDataToCloud", "toImage"} <= set(GRAPH_CONFIG["modeBarButtonsToRemove"])


def test_a_charts_text_alternative_is_its_title_in_plain_words() -> None:
    fig = {"layout": {"title": {"text": "Widnes NPU is 3rd of 6 &amp; falling<br><sup>Burglary (count), "
                                        "Apr 2007 – Mar 2008</sup>"}}}
    assert finding(fig) == "Widnes NPU is 3rd of 6 & falling. Burglary (count), Apr 2007 – Mar 2008"
    empty = {"layout": {"annotations": [{"text": "No calls in this period."}]}}
    assert finding(empty) == "No calls in this period."
