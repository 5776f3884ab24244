"""Who a unit is compared with: its most similar forces (MSF) and its peer BCUs, NPUs and teams.

HMIC (2007) names two comparison frames for Cheshire's Looking Glass: the force's most similar
forces, and "BCU clusters" (seed requirements L725, L747). Neither list is in the report, so:

- **MSF group.** `data/msf_groups.csv` (force, peer) is used as given. The file shipped with the
  project is a DEMO group (its header says `# provenance: demo`): it is used for the synthetic
  demo force only, never passed off as the Home Office list for real data. A force that has the
  official list replaces the file (and drops the demo line). Label: "MSF group
  (data/msf_groups.csv)".
- **Proxy**, when the file has no group for the force (or only a demo group and the data are
  real): the 7 forces nearest on standardised characteristics available to us -- log
  population, log density (population / area), log area and log officers per 1,000 residents
  (`data/force_characteristics.csv`, approximate figures we wrote ourselves) -- by Euclidean
  distance. Label: "proxy, not the Home Office group".
- **Inside a force.** A BCU's peers are the force's other BCUs. NPUs are clustered into groups
  of about 4-6 ("BCU clusters" as Cheshire meant them) on standardised log population, crime
  mix (shares of the main categories) and a deprivation proxy (crime per 1,000 residents), by a
  balanced k-means (numpy + scipy only). A team's peers are the force's teams of the same type
  (Response, Neighbourhood, CID).

Pure functions at the top (file parsing, distances, clustering); the functions taking a
`DataAccess` at the bottom read the warehouse through its public methods. The dashboard uses
the warehouse's copies of both files (ref_msf_groups, ref_force_characteristics, written by
every load and rebuild), so a changed file takes effect with the next warehouse version; the
file readers serve the checks of the rows and the tests.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

from dashboard.periods import add_months
from etl.errors import InputRefused

if TYPE_CHECKING:
    from dashboard.data.facade import DataAccess
    from dashboard.data.model import Unit

REPO = Path(__file__).resolve().parents[2]
MSF_SIZE = 7
FILE_LABEL = "MSF group (data/msf_groups.csv)"
PROXY_LABEL = "proxy, not the Home Office group"
ALL_FORCES_LABEL = "every force with data loaded (not a similarity group)"
DEMO_NOTE = "demo group, not the official Home Office list"


def data_dir() -> Path:
    """Where the project's own data files live: `LG_DATA_DIR`, else `data/` in the repository."""
    env = os.environ.get("LG_DATA_DIR")
    return Path(env) if env else REPO / "data"


def msf_path() -> Path:
    return data_dir() / "msf_groups.csv"


def characteristics_path() -> Path:
    return data_dir() / "force_characteristics.csv"


# -- reading the small CSV files ---------------------------------------------------------------


def read_commented_csv(
    path: Path, required: Sequence[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows (with their line numbers) and '#' comment lines of a small CSV.

    Comment lines may come anywhere; blank lines are skipped; optional columns after the
    required ones may be left off a row. Raises `InputRefused` naming the file, the line and the
    problem for a missing column or a row of the wrong width.
    """
    comments: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for lineno, raw in enumerate(csv.reader(fh), start=1):
            if not raw or all(not c.strip() for c in raw):
                continue
            if raw[0].lstrip().startswith("#"):
                comments.append(",".join(raw).lstrip()[1:].strip())
                continue
            cells = [c.strip() for c in raw]
            if header is None:
                header = [c.lower() for c in cells]
                missing = [c for c in required if c not in header]
                if missing:
                    raise InputRefused(str(path), f"missing column(s) {', '.join(missing)}; "
                                       f"expected {', '.join(required)}", lineno)
                continue
            if len(cells) < len(header) and not set(header[len(cells):]) & set(required):
                cells += [""] * (len(header) - len(cells))   # optional trailing columns left off
            if len(cells) != len(header):
                raise InputRefused(str(path), f"{len(cells)} fields where the header has {len(header)}",
                                   lineno)
            rows.append((lineno, dict(zip(header, cells, strict=True))))
    if header is None:
        raise InputRefused(str(path), "no header row")
    return rows, comments


@dataclass(frozen=True)
class ForceCharacteristics:
    force: str
    population: float
    area_km2: float
    officers_fte: float

    @property
    def density(self) -> float:
        return self.population / self.area_km2

    @property
    def officers_per_1000(self) -> float:
        return self.officers_fte / self.population * 1000.0


CHARACTERISTICS_COLUMNS = ("force", "population", "area_km2", "officers_fte")
MSF_COLUMNS = ("force", "peer")


def load_characteristics(path: Path | None = None) -> dict[str, ForceCharacteristics]:
    """`data/force_characteristics.csv` -> {force: characteristics}. Bad rows are refused."""
    path = path or characteristics_path()
    rows, _ = read_commented_csv(path, CHARACTERISTICS_COLUMNS)
    return characteristics_from_rows(path, rows)


def characteristics_from_rows(
    path: Path, rows: Sequence[tuple[int, dict[str, str]]]
) -> dict[str, ForceCharacteristics]:
    """Checked characteristics from rows (line, cells) of the file at `path` (named in errors)."""
    _require(path, rows, CHARACTERISTICS_COLUMNS)
    out: dict[str, ForceCharacteristics] = {}
    for lineno, row in rows:
        values = []
        for col in ("population", "area_km2", "officers_fte"):
            try:
                v = float(row[col])
            except ValueError:
                raise InputRefused(str(path), f"{col} {row[col]!r} is not a number", lineno) from None
            if not (math.isfinite(v) and v > 0):
                raise InputRefused(str(path), f"{col} must be positive, got {row[col]!r}", lineno)
            values.append(v)
        force = row["force"]
        if not force:
            raise InputRefused(str(path), "blank force", lineno)
        if force in out:
            raise InputRefused(str(path), f"force {force!r} appears twice", lineno)
        out[force] = ForceCharacteristics(force, *values)
    return out


@dataclass(frozen=True)
class MsfFile:
    """The groups of `data/msf_groups.csv` and what the file says it is."""

    path: Path
    groups: dict[str, tuple[str, ...]]
    provenance: str  # 'demo', or whatever the '# provenance:' line says ('' if none)
    comments: tuple[str, ...] = ()

    @property
    def is_demo(self) -> bool:
        return self.provenance.lower().startswith("demo")


def load_msf_groups(path: Path | None = None) -> MsfFile | None:
    """`data/msf_groups.csv` (columns force, peer; one row per pair), or None if absent.

    A `# provenance: ...` comment line says where the groups come from; 'demo' restricts them
    to synthetic data. Refused: a blank cell, a force listed as its own peer, a repeated pair.
    """
    path = path or msf_path()
    if not path.exists():
        return None
    rows, comments = read_commented_csv(path, MSF_COLUMNS)
    return msf_groups_from_rows(path, rows, comments)


def msf_groups_from_rows(
    path: Path, rows: Sequence[tuple[int, dict[str, str]]], comments: Sequence[str]
) -> MsfFile:
    """Checked MSF groups from rows (line, cells) and comment lines of the file at `path`."""
    _require(path, rows, MSF_COLUMNS)
    groups: dict[str, list[str]] = {}
    for lineno, row in rows:
        force, peer = row["force"], row["peer"]
        if not force or not peer:
            raise InputRefused(str(path), "blank force or peer", lineno)
        if force == peer:
            raise InputRefused(str(path), f"{force!r} is listed as its own peer", lineno)
        if peer in groups.get(force, []):
            raise InputRefused(str(path), f"pair {force}, {peer} appears twice", lineno)
        groups.setdefault(force, []).append(peer)
    provenance = ""
    for c in comments:
        if c.lower().startswith("provenance:"):
            provenance = c.split(":", 1)[1].strip()
    return MsfFile(path, {k: tuple(v) for k, v in groups.items()}, provenance, tuple(comments))


def _require(path: Path, rows: Sequence[tuple[int, dict[str, str]]], required: Sequence[str]) -> None:
    """Refuse rows that lack a required column (the file checks its header; a table's rows are
    checked here, in case a warehouse was built from a file without it)."""
    for lineno, row in rows[:1]:
        missing = [c for c in required if c not in row]
        if missing:
            raise InputRefused(str(path), f"missing column(s) {', '.join(missing)}; "
                               f"expected {', '.join(required)}", lineno)


# -- groups ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerGroup:
    """Whom `unit_id` is compared with, and in what words the screen says so.

    `kind`: 'msf_file', 'proxy', 'all_forces', 'bcu', 'npu_cluster', 'team_type' or 'none'.
    `members` never includes the unit itself. `missing` lists members named by the group that
    have no data loaded (they cannot be shown, and the page says so).
    """

    unit_id: str
    members: tuple[str, ...]
    label: str
    kind: str
    notes: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    distances: dict[str, float] = field(default_factory=dict)

    @property
    def is_proxy(self) -> bool:
        return self.kind == "proxy"


_FEATURES = ("log population", "log density", "log area", "log officers per 1,000")


def _feature_matrix(chars: dict[str, ForceCharacteristics]) -> tuple[list[str], np.ndarray]:
    forces = sorted(chars)
    x = np.array([[math.log(chars[f].population), math.log(chars[f].density), math.log(chars[f].area_km2),
                   math.log(chars[f].officers_per_1000)] for f in forces])
    return forces, standardise(x)


def standardise(x: np.ndarray) -> np.ndarray:
    """Columns to mean 0 and standard deviation 1 (a constant column becomes 0)."""
    x = np.asarray(x, dtype=float)
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def proxy_group(force: str, chars: dict[str, ForceCharacteristics], candidates: Iterable[str] | None = None,
                size: int = MSF_SIZE) -> PeerGroup:
    """The `size` forces nearest to `force` on standardised characteristics (see module doc).

    The characteristics are standardised over every force in the file, so a force's distances
    do not depend on which others happen to be loaded; `candidates` (e.g. the forces with data)
    limits whom it may pick. Ties are broken by force id.
    """
    if force not in chars:
        return PeerGroup(
            force,
            (),
            PROXY_LABEL,
            "none",
            (f"No characteristics for {force!r} in {characteristics_path().name}: no proxy group.",),
        )
    forces, z = _feature_matrix(chars)
    i = forces.index(force)
    d = np.sqrt(((z - z[i]) ** 2).sum(axis=1))
    allowed = set(candidates) if candidates is not None else set(forces)
    order = sorted(
        (float(d[j]), forces[j]) for j in range(len(forces)) if forces[j] != force and forces[j] in allowed
    )
    chosen = order[:size]
    note = (f"Nearest {len(chosen)} on {', '.join(_FEATURES)} (standardised over the {len(forces)} forces of "
            f"{characteristics_path().name}, approximate figures); not the Home Office most similar group.")
    notes = [note]
    if len(chosen) < size:
        notes.append(f"Only {len(chosen)} other forces have data loaded, so the group has {len(chosen)} "
                     f"members, not {size}.")
    return PeerGroup(force, tuple(f for _, f in chosen), PROXY_LABEL, "proxy", tuple(notes),
                     distances={f: dist for dist, f in chosen})


def msf_group(force: str, *, available: Iterable[str] | None = None, synthetic: bool = False,
              groups: MsfFile | None | bool = True, chars: dict[str, ForceCharacteristics] | None = None
              ) -> PeerGroup:
    """The force's MSF group: from data/msf_groups.csv when it applies, else the proxy.

    `available`: forces with data loaded (members without data are listed as missing; the proxy
    picks among them). `synthetic`: whether the force's data are the synthetic demo, for which a
    demo group file applies. `groups=True` reads the default file; pass an `MsfFile` or None.
    """
    avail = set(available) if available is not None else None
    msf = load_msf_groups() if groups is True else (groups or None)
    notes: list[str] = []
    if msf is not None and force in msf.groups:
        if msf.is_demo and not synthetic:
            notes.append(f"{msf.path.name} holds {DEMO_NOTE}s for the synthetic demo; real data are "
                         "compared with the proxy below.")
        else:
            members = msf.groups[force]
            present = tuple(m for m in members if avail is None or m in avail)
            missing = tuple(m for m in members if avail is not None and m not in avail)
            if msf.is_demo:
                notes.append(f"From {msf.path.name}: {DEMO_NOTE}.")
            elif msf.provenance:
                notes.append(f"From {msf.path.name} ({msf.provenance}).")
            if missing:
                notes.append(f"{len(missing)} member(s) have no data loaded: {', '.join(missing)}.")
            return PeerGroup(force, present, FILE_LABEL, "msf_file", tuple(notes), missing)
    elif msf is not None:
        notes.append(f"{msf.path.name} has no group for {force!r}.")
    proxy = proxy_group(force, chars if chars is not None else load_characteristics(), avail)
    return PeerGroup(force, proxy.members, proxy.label, proxy.kind, tuple(notes) + proxy.notes,
                     distances=proxy.distances)


def all_forces_group(force: str, available: Iterable[str]) -> PeerGroup:
    members = tuple(sorted(f for f in available if f != force))
    return PeerGroup(force, members, ALL_FORCES_LABEL, "all_forces",
                     (f"All {len(members)} other forces with data loaded, whether similar or not.",))


# -- clusters of NPUs ------------------------------------------------------------------------------


def _capacities(n: int, k: int) -> list[int]:
    base, extra = divmod(n, k)
    return [base + 1 if i < extra else base for i in range(k)]


def balanced_kmeans(x: np.ndarray, k: int, *, seed: int = 0, n_init: int = 10,
                    max_iter: int = 50) -> np.ndarray:
    """Cluster the rows of `x` into `k` groups whose sizes differ by at most one.

    Lloyd's k-means in which each assignment step is an exact balanced assignment: every centre
    is offered floor(n/k) or ceil(n/k) slots and scipy's linear_sum_assignment (Hungarian
    method) gives each point a slot so that the total squared distance is least. Several
    k-means++ starts from a seeded generator; the best (least within-group sum of squares)
    wins, so the result is deterministic. Labels are renumbered in order of first appearance.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of points ({n}), got {k}")
    if k == 1:
        return np.zeros(n, dtype=int)
    caps = _capacities(n, k)
    slot_of = np.repeat(np.arange(k), caps)
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(n_init):
        # k-means++ start
        centres = [x[rng.integers(n)]]
        for _j in range(1, k):
            d2 = np.min(((x[:, None, :] - np.array(centres)[None, :, :]) ** 2).sum(axis=2), axis=1)
            p = d2 / d2.sum() if d2.sum() > 0 else np.full(n, 1.0 / n)
            centres.append(x[rng.choice(n, p=p)])
        c = np.array(centres)
        labels = np.full(n, -1)
        for _it in range(max_iter):
            cost = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)   # (n, k)
            rows, cols = linear_sum_assignment(cost[:, slot_of])
            new = np.empty(n, dtype=int)
            new[rows] = slot_of[cols]
            if np.array_equal(new, labels):
                break
            labels = new
            c = np.array([x[labels == j].mean(axis=0) for j in range(k)])
        inertia = float(sum(((x[labels == j] - c[j]) ** 2).sum() for j in range(k)))
        if best is None or inertia < best[0] - 1e-12:
            best = (inertia, labels.copy())
    assert best is not None
    labels = best[1]
    order: dict[int, int] = {}
    for lab in labels:
        order.setdefault(int(lab), len(order))
    return np.array([order[int(lab)] for lab in labels])


MIX_CATEGORIES = ("violent-crime", "criminal-damage-arson", "other-theft", "vehicle-crime", "burglary",
                  "shoplifting")


def npu_feature_matrix(population: Sequence[float], counts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Standardised features of NPUs for clustering, and their names.

    `counts`: (NPU, category) crimes over the last 12 months, columns in MIX_CATEGORIES order
    followed by one column of every other crime. Features: log population, crime per 1,000
    residents (the deprivation proxy) and the shares of the MIX_CATEGORIES; the shares are
    weighted 1/sqrt(number of shares) so that the crime mix as a whole weighs as much as
    population or crime rate. Without populations (real police.uk data) the crime volume
    stands in for population and the rate is left out.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=1)
    shares = counts[:, : len(MIX_CATEGORIES)] / np.where(total > 0, total, 1.0)[:, None]
    pop = np.asarray(population, dtype=float)
    has_pop = bool(np.all(np.isfinite(pop)) and np.all(pop > 0))
    cols: list[np.ndarray] = []
    names: list[str] = []
    if has_pop:
        cols += [np.log(pop), total / pop * 1000.0]
        names += ["log population", "crime per 1,000 residents"]
    else:
        cols.append(np.log(np.maximum(total, 1.0)))
        names.append("log crime volume (no populations)")
    base = standardise(np.column_stack(cols))
    mix = standardise(shares) / math.sqrt(shares.shape[1])
    names += [f"share of {c}" for c in MIX_CATEGORIES]
    return np.column_stack([base, mix]), names


def cluster_count(n: int, target: int = 5) -> int:
    """How many clusters give groups of about `target` (4-6): round(n / target), at least 1."""
    return max(1, min(n, round(n / target)))


# -- with the warehouse ----------------------------------------------------------------------------


def forces_with_data(data: DataAccess, family: str = "crime") -> list[str]:
    units = data.units()
    forces = units.loc[units["level"] == "force", "force_id"]
    return sorted(f for f in forces if data.source_for(f, family) is not None)


def warehouse_msf_groups(data: DataAccess) -> MsfFile | None:
    """The MSF groups of the warehouse version (ref_msf_groups), or None when the load found no
    groups file: then every force is compared with its proxy group."""
    ref = data.reference("msf_groups.csv")
    if ref is None:
        return None
    return data.cached("peers.msf_groups", (),
                       lambda: msf_groups_from_rows(Path(ref.origin), ref.rows, ref.comments))


def warehouse_characteristics(data: DataAccess) -> dict[str, ForceCharacteristics]:
    """The force characteristics of the warehouse version (ref_force_characteristics); none
    when the load found no file (then there is no proxy group)."""
    ref = data.reference("force_characteristics.csv")
    if ref is None:
        return {}
    return data.cached("peers.characteristics", (),
                       lambda: characteristics_from_rows(Path(ref.origin), ref.rows))


def force_group(data: DataAccess, force_id: str, scope: str = "msf", family: str = "crime") -> PeerGroup:
    """The force's comparison group among forces with `family` data: 'msf' or 'all'."""
    def compute() -> PeerGroup:
        available = forces_with_data(data, family)
        if scope == "all":
            return all_forces_group(force_id, available)
        unit = data.unit(force_id)
        return msf_group(force_id, available=available, synthetic=bool(unit and unit.synthetic),
                         groups=warehouse_msf_groups(data), chars=warehouse_characteristics(data))

    # depends only on the version (its forces, sources and reference files) and a bounded set
    # of arguments: kept beside the version, so a cold result cache does not read the two
    # reference files and build the groups again (~5-10 ms of a cold Compare page)
    return data.persisted("peers.force_group", (force_id, scope, family), compute)


def npu_clusters(data: DataAccess, force_id: str, end_month: date | None = None) -> dict[str, int]:
    """NPU id -> cluster number (0, 1, ...) for the force, from the last 12 months of crime."""
    def compute() -> dict[str, int]:
        npus = sorted(data.units_at(force_id, "npu"), key=lambda u: u.unit_id)
        source = data.source_for(force_id)
        if len(npus) < 2 or source is None:
            return {u.unit_id: 0 for u in npus}
        last = end_month or source.last_month
        first = add_months(last, -11)
        frame = data.crime_category_totals(source.source, [u.unit_id for u in npus], first, last)
        idx = {u.unit_id: i for i, u in enumerate(npus)}
        counts = np.zeros((len(npus), len(MIX_CATEGORIES) + 1))
        for r in frame.itertuples(index=False):
            if r.category == "anti-social-behaviour":
                continue
            j = MIX_CATEGORIES.index(r.category) if r.category in MIX_CATEGORIES else len(MIX_CATEGORIES)
            counts[idx[r.unit_id], j] += r.n
        pops = [u.population if u.population else math.nan for u in npus]
        x, _ = npu_feature_matrix(pops, counts)
        labels = balanced_kmeans(x, cluster_count(len(npus)), seed=2007)
        return {u.unit_id: int(labels[i]) for i, u in enumerate(npus)}

    # the version's crime and the force (and a month of it): kept beside the version
    return data.persisted("peers.npu_clusters", (force_id, end_month), compute)


def team_type(unit: Unit) -> str:
    """'Response A' -> 'Response': a team's type is its name's first word."""
    return unit.name.split()[0] if unit.name else ""


def unit_group(data: DataAccess, unit_id: str, scope: str = "msf", family: str = "crime") -> PeerGroup:
    """Any unit's comparison group: a force's MSF (or every force), a BCU's fellow BCUs, an
    NPU's cluster, a team's fellow teams of the same type."""
    unit = data.unit(unit_id)
    if unit is None:
        raise KeyError(f"unknown unit {unit_id!r}")
    if unit.level == "force":
        return force_group(data, unit_id, scope, family)
    if unit.level == "bcu":
        members = tuple(
            sorted(u.unit_id for u in data.units_at(unit.force_id, "bcu") if u.unit_id != unit_id)
        )
        return PeerGroup(unit_id, members, "the force's other BCUs", "bcu",
                         ("BCUs are compared with the other BCUs of the same force.",))
    if unit.level == "npu":
        clusters = npu_clusters(data, unit.force_id)
        mine = clusters.get(unit_id)
        members = tuple(sorted(u for u, c in clusters.items() if c == mine and u != unit_id))
        size = len(members) + 1
        return PeerGroup(
            unit_id,
            members,
            f"NPU cluster {mine + 1 if mine is not None else '?'} ({size} most similar NPUs)",
            "npu_cluster",
            (
                f"NPUs of {unit.force_id} clustered into groups of about 5 on population, crime mix and "
                "crime per 1,000 residents (balanced k-means over the last 12 months); "
                "a BCU cluster in Cheshire's sense.",
            ),
        )
    if unit.level == "team":
        kind = team_type(unit)
        members = tuple(sorted(u.unit_id for u in data.units_at(unit.force_id, "team")
                               if u.unit_id != unit_id and team_type(u) == kind))
        return PeerGroup(unit_id, members, f"the force's other {kind} teams", "team_type",
                         (f"Teams are compared with the force's other teams of the same type ({kind}).",))
    return PeerGroup(unit_id, (), "no peer group", "none", ("Officers are not compared.",))
