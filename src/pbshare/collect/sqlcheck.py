"""The SQL gate now lives in ``pbshare.core.sqlcheck`` (quality's custom SQL rules use it too); kept here
so collect's imports stay as they were."""

from pbshare.core.sqlcheck import DENIED_FUNCTIONS, REFUSALS, parse_read_only

__all__ = ["DENIED_FUNCTIONS", "REFUSALS", "parse_read_only"]
