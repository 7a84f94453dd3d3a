"""One file per revision of the call records' schema, oldest first (0001, 0002, ...)."""
