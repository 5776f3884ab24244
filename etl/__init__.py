"""Looking Glass ETL: source files and databases -> Parquet lake -> versioned DuckDB warehouse."""
