"""The storage layer's error, apart so that opening (engine) and migrating (migrate) share it
without importing each other."""


class StorageError(RuntimeError):
    """The database cannot be opened or used (bad URL, server down): bad input, exit 2."""
