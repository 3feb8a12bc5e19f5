"""Sync every stream of source-calltracking into a local DuckDB file through PyAirbyte.

Runs inside the PyAirbyte virtual environment (`.venv-demo/`), not the connector's: it needs
only the `airbyte` package and the path of the connector's executable. `./run-demo` calls it
with a config that points at the bundled emulator; with your own config it syncs the real APIs:

    .venv-demo/bin/python testkit/pyairbyte_sync.py --config config.json \\
        --executable .venv/bin/source-calltracking --cache demo_output/calltracking.duckdb

State is kept in the DuckDB file (PyAirbyte's `_airbyte_state` table), so a second run against
the same file is incremental. Prints a summary per stream; `--summary-json` also writes it as
JSON (for tests). Nothing is fetched from the internet: PyAirbyte runs in offline mode (no
connector registry look-up) and without telemetry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

SOURCE_NAME = "source-calltracking"


def offline_environment(work_dir: Path) -> None:
    """Offline, no telemetry, and PyAirbyte's logs and scratch files beside the DuckDB file.

    Must run before `airbyte` is imported: PyAirbyte reads these when it is imported.
    """
    os.environ["AIRBYTE_OFFLINE_MODE"] = "1"  # no connector registry look-up, no telemetry
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("AIRBYTE_PROJECT_DIR", str(work_dir))
    os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(work_dir / "pyairbyte_logs"))
    # Google client libraries that PyAirbyte imports warn about Python 3.11's end of support.
    warnings.filterwarnings("ignore", category=FutureWarning)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sync(config: dict, executable: str, cache_path: Path) -> dict:
    """Read every stream into the DuckDB file; return what this run read and what the tables hold."""
    import airbyte as ab
    import airbyte.types
    from airbyte.caches import DuckDBCache

    # PyAirbyte prints a line for each field typed ["string", "integer", "null"] (the APIs send some
    # documented integers as text) before storing it as VARCHAR, which is what we want anyway.
    airbyte.types.print = lambda *args, **kwargs: None

    cache = DuckDBCache(db_path=cache_path, schema_name="main")
    source = ab.get_source(SOURCE_NAME, local_executable=executable, config=config)
    source.select_all_streams()
    streams = {s.name: s for s in source.discovered_catalog.streams}
    had_state = cache.get_state_provider(source_name=source.name).known_stream_names
    result = source.read(cache=cache)
    # Records read per stream in this run, from PyAirbyte's progress tracker (`airbyte` is pinned).
    read_counts = dict(getattr(getattr(result, "_progress_tracker", None), "stream_read_counts", {}))

    summary = {"cache": str(cache_path), "records_read": result.processed_records, "streams": {}}
    for name, stream in sorted(streams.items()):
        table = cache.processor.get_sql_table_name(name)
        cursor = stream.default_cursor_field[0] if stream.default_cursor_field else None
        column = cache.processor.normalizer.normalize(cursor) if cursor else None
        select = f"count(*) AS n, min({quoted(column)}) AS first, max({quoted(column)}) AS last" if column else "count(*) AS n"
        row = cache.run_sql_query(f"SELECT {select} FROM {quoted(cache.schema_name)}.{quoted(table)}")[0]
        summary["streams"][name] = {
            "table": f"{cache.schema_name}.{table}",
            "rows": row["n"],
            "read_this_run": read_counts.get(name, 0),
            "cursor": cursor,
            "cursor_column": column,
            "first": None if row.get("first") is None else str(row["first"]),
            "last": None if row.get("last") is None else str(row["last"]),
            # Full-refresh streams also leave a (cursorless) state in the cache; only a cursor continues.
            "continued_from_state": name in had_state and "incremental" in [m.value for m in stream.supported_sync_modes],
        }
    cache.close()
    return summary


def print_summary(summary: dict, python: str) -> None:
    streams = summary["streams"]
    continued = [name for name, info in streams.items() if info["continued_from_state"]]
    if continued:
        print(f"\nIncremental run: {len(continued)} of {len(streams)} streams continued from the state saved in "
              f"{summary['cache']}; read {summary['records_read']} records: those since the saved cursor and, again, those "
              f"in the lookback window (merged by primary key).")
    else:
        print(f"\nFirst run: read the whole history of {len(streams)} streams, {summary['records_read']} records. "
              f"Run again for an incremental sync.")
    width = max([len("stream")] + [len(name) for name in streams])
    print(f"  {'stream':{width}}  {'rows':>7}  {'read now':>8}  {'first cursor value':25}  last cursor value")
    for name, info in streams.items():
        print(f"  {name:{width}}  {info['rows']:>7}  {info['read_this_run']:>8}  {info['first'] or '-':25}  {info['last'] or '-'}")
    if streams:
        first = next(iter(streams.values()))
        column = first["cursor_column"]
        query = (f"SELECT count(*), min({column}), max({column}) FROM {first['table']}" if column
                 else f"SELECT * FROM {first['table']} LIMIT 5")
        print(f"\nStored in {summary['cache']} (DuckDB: one table per stream, schema main). Query it with:")
        print(f"  {python} -c \"import duckdb; db = duckdb.connect('{summary['cache']}', read_only=True); db.sql('{query}').show()\"")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="the connector config (JSON)")
    parser.add_argument("--executable", required=True, help="path of the source-calltracking executable")
    parser.add_argument("--cache", type=Path, default=Path("demo_output/calltracking.duckdb"), help="the DuckDB file")
    parser.add_argument("--summary-json", type=Path, help="also write the summary here as JSON")
    args = parser.parse_args()
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    offline_environment(args.cache.parent.resolve())
    summary = sync(json.loads(args.config.read_text()), args.executable, args.cache)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, indent=2))
    python = Path(sys.executable)
    print_summary(summary, os.path.relpath(python) if python.is_relative_to(Path.cwd()) else str(python))


if __name__ == "__main__":
    main()
