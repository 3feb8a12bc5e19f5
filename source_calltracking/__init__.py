from source_calltracking.source import SourceCalltracking

__all__ = ["SourceCalltracking"]
