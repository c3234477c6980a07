"""One error family. The CLI prints ``str(err)`` on one line and exits with ``err.exit_code``."""


class YingsheError(Exception):
    """Base of every error yingshe raises on purpose."""

    exit_code = 1


class BadInput(YingsheError):
    """The user gave us something we cannot use: a bad file, path, option or value."""

    exit_code = 2


class WeightsError(YingsheError):
    """Model weights are missing, corrupt, or do not match their recorded fingerprint."""

    exit_code = 2


class Interrupted(YingsheError):
    """The user stopped a long job (Ctrl-C or the studio's Stop button)."""

    exit_code = 130
