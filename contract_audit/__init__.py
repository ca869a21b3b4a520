"""contract-audit: find where an AI, cloud or smart-city infrastructure contract gives away digital sovereignty."""
from .api import Auditor, ClauseResult, audit, classify
from .errors import AuditError, IngestError, ModelError, RuleError
from .model import FAMILIES, Clause, Document, Finding, Report

__version__ = "0.1.0"
__all__ = [
    "Auditor", "ClauseResult", "audit", "classify", "AuditError", "IngestError", "ModelError", "RuleError",
    "FAMILIES", "Clause", "Document", "Finding", "Report", "__version__",
]
