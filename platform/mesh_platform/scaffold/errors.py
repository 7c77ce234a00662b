"""The one error a scaffold raises: what is wrong and how to fix it, before anything is written."""


class ScaffoldError(Exception):
    """Bad input to `mesh new`; nothing was written."""
