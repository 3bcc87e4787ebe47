"""The web desk: a second thin skin over the application services (``ledger serve``)."""
