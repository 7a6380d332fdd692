"""The platform's side of the city's government sharing hub (市政务信息资源共享平台), docs/hub.md."""

# Importing the package registers the hub's response handler (all_models imports the tables, so any
# process that opens the database has it).
from pbshare.exchange.govhub import service as _service  # noqa: F401
