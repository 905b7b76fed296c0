"""Everything ``--all`` does: discovery and the worker pool (``run``), one service-account
listing per project (``shared_listings``), the shared admin rate budget (``rate_budget``) and
the status rows (``status``)."""
