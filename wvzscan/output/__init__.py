"""The owners of everything wvzscan writes: files (writer), redaction (redact), terminal text (terminal)."""
