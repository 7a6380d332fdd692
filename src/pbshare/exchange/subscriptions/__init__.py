"""Subscriptions to the office's outbound resources, and the case events that feed them."""

# Importing the package registers the case-event listener (the tables are imported by all_models, so any
# process that opens the database has it).
from pbshare.exchange.subscriptions import events as _events  # noqa: F401
