"""The data layer: the only way pages, analysis and the API reach the warehouse.

    facade.py     DataAccess: every public read, the public version-keyed cache, the request
                  (version + actor)
    model.py      Unit, Source, View, ReferenceData: what a view is about
    access.py     the one seam deciding what an actor may see
    cache.py      the version-keyed LRU behind DataAccess.cached
    warehouse.py  the read-only connection to the live warehouse version
    queries/      every SQL statement, grouped by the tables it reads

The levels themselves (force > BCU > NPU > team > officer) are etl.hierarchy's. This file
imports nothing (docs/architecture.md: a package that imported its own modules would hide
import cycles); import from the module that holds a name.
"""
