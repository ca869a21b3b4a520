"""Exceptions whose message is meant for the user; the CLI and web layers turn them into one line."""


class AuditError(Exception):
    """Base class: an input or configuration problem the user can act on."""


class IngestError(AuditError):
    """A file could not be read as a contract (corrupt, encrypted, empty, scanned, unsupported)."""


class RuleError(AuditError):
    """A rule or policy file is invalid; the message names the file, the line and the problem."""


class ModelError(AuditError):
    """A model file is missing, corrupt, or fails its checksum or schema."""
