"""wvzscan: find, verify and revoke leaked Weavz API keys."""

__version__ = "0.1.0"
