"""ETL pipelines and schedules: ordered steps, schedules in the office's time zone, runs under a local or a Celery
executor (docs/jobs.md)."""
