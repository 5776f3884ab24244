"""Reference data: the forces of England and Wales, the default LSOA -> NPU mapping, and the
reference tables (MSF groups, force characteristics, targets) copied into every warehouse
version."""
