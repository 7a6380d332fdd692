"""Demo step: the sample catalog, published."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog_service
from pbshare.catalog.transfer import service as catalog_transfer
from pbshare.core.db import Database
from pbshare.demo.synthetic import sample_catalog


def load_catalog(db: Session, *, data_dir: Path | None = None, database: Database | None = None) -> int:
    """Demo step: the sample catalog's resources, published. Resources already there are left alone,
    so running the demo again keeps whatever a user changed."""
    sample = sample_catalog()
    have = catalog_service.resource_codes(db)
    missing = [r for r in sample["resources"] if str(r["code"]) not in have]
    if not missing:
        return 0
    report = catalog_transfer.import_catalog(db, data={"catalog": sample.get("catalog"), "units": sample["units"], "resources": missing},
                            loc=catalog_transfer.Locator(kind="yaml"), publish=True, filename="sample-catalog.yaml")
    return report.created
