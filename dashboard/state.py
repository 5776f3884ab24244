"""The view's state lives in the URL, so a link pasted into a PIM paper opens the same view.

`/drill-down?unit=cheshire/northern&measure=crime_burglary&preset=fytd&grain=month`

| key     | meaning                                                     | default            |
|---------|-------------------------------------------------------------|--------------------|
| unit    | dim_unit id (force, BCU, NPU or team)                       | the main force     |
| measure | measure id from the registry (etl/measures/registry.py)              | total_crime        |
| preset  | month, qtd, fytd, 12m or custom                             | fytd               |
| from/to | YYYY-MM-DD, inclusive; only with preset=custom              |                    |
| grain   | day, week, month, quarter or fy                             | month              |
| rank    | drill-down only: 'npu' ranks every NPU of the force         | the unit's children |

Parsing never fails: values are kept as text here and checked against the warehouse by
`DataAccess.resolve`, which falls back to a default and says so on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from urllib.parse import parse_qs, urlencode

from dashboard.periods import DEFAULT_GRAIN, DEFAULT_PRESET

KEYS = ("unit", "measure", "preset", "from", "to", "grain", "rank")


@dataclass(frozen=True)
class ViewState:
    unit: str | None = None
    measure: str | None = None
    preset: str = DEFAULT_PRESET
    start: str | None = None  # 'from' in the URL
    end: str | None = None  # 'to' in the URL
    grain: str = DEFAULT_GRAIN
    rank: str | None = None

    def replace(self, **changes: object) -> ViewState:
        return replace(self, **changes)

    def params(self) -> dict[str, str]:
        """URL parameters in a fixed order, leaving out what is unset or implied."""
        out: dict[str, str] = {}
        if self.unit:
            out["unit"] = self.unit
        if self.measure:
            out["measure"] = self.measure
        out["preset"] = self.preset
        if self.preset == "custom":
            if self.start:
                out["from"] = self.start
            if self.end:
                out["to"] = self.end
        out["grain"] = self.grain
        if self.rank:
            out["rank"] = self.rank
        return out

    def query(self) -> str:
        """'?unit=cheshire/northern&preset=fytd&grain=month' (slashes kept readable)."""
        return "?" + urlencode(self.params(), safe="/")

    def href(self, path: str, **changes: object) -> str:
        state = self.replace(**changes) if changes else self
        return path + state.query()


# No key's value is longer (unit ids and dates are short); a longer one is cut here, so it is
# refused as unknown with a short note instead of being echoed or looked up whole.
MAX_VALUE = 200
MAX_QUERY = 4096  # the longest query string read: beyond it nothing of the view's can be


def parse(search: str | None) -> ViewState:
    """The state in a URL's query string ('?a=b&...'); unknown keys are ignored, and so is
    anything but text (a malformed callback request)."""
    text = search[:MAX_QUERY] if isinstance(search, str) else ""
    raw = parse_qs(text.lstrip("?"), keep_blank_values=False)
    first = {k: v[0].strip()[:MAX_VALUE] for k, v in raw.items() if k in KEYS and v and v[0].strip()}
    preset = first.get("preset")
    start, end = first.get("from"), first.get("to")
    if preset is None:
        preset = "custom" if (start or end) else DEFAULT_PRESET
    return ViewState(
        unit=first.get("unit"),
        measure=first.get("measure"),
        preset=preset,
        start=start if preset == "custom" else None,
        end=end if preset == "custom" else None,
        grain=first.get("grain", DEFAULT_GRAIN),
        rank=first.get("rank"),
    )


FIELDS = tuple(f.name for f in fields(ViewState))
