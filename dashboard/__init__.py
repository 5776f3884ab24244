"""The Looking Glass web dashboard: read-only views over the warehouse the ETL publishes."""
