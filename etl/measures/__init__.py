"""The measures: one model (model.py), its kinds (kinds.py), the crime categories and
measures (crime.py), and the registry of every measure (registry.py: `MEASURES`, `get`).

Import from the submodule that holds a name. This package imports nothing itself, so a
source module can import the model without pulling in the registry that lists it.
"""
