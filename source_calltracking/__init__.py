from source_calltracking.thread_safe_ast import serialise_ast_parse

serialise_ast_parse()  # before any worker thread starts: CPython gh-106905, see the module

# Imported lazily, so that `tap-calltracking` (source_calltracking.singer), which runs the source in a
# child process, does not load the CDK itself.
__all__ = ["SourceCalltracking"]


def __getattr__(name):
    if name == "SourceCalltracking":
        from source_calltracking.source import SourceCalltracking

        return SourceCalltracking
    raise AttributeError(name)
