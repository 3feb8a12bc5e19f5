"""Sync every stream of source-calltracking into a local DuckDB file, or a PostgreSQL database, through PyAirbyte.

Runs inside the PyAirbyte virtual environment (`.venv-demo/`), not the connector's: it needs
only the `airbyte` package and the path of the connector's executable. `./run-demo` calls it
with a config that points at the bundled emulator; with your own config it syncs the real APIs:

    .venv-demo/bin/python testkit/pyairbyte_sync.py --config config.json \\
        --executable .venv/bin/source-calltracking --cache demo_output/calltracking.duckdb

`--postgres` writes into a PostgreSQL server instead (PyAirbyte's `PostgresCache`), connected with
the libpq variables PGHOST (default localhost), PGPORT (5432), PGUSER (postgres), PGPASSWORD (empty)
and PGDATABASE (postgres), and PGSCHEMA (calltracking) for the schema of the tables; the password
is read from the environment only, and never printed.

State is kept beside the tables (PyAirbyte's `_airbyte_state` table), so a second run against
the same file or schema is incremental. Prints a summary per stream; `--summary-json` also writes it
as JSON (for tests). Nothing is fetched from the internet: PyAirbyte runs in offline mode (no
connector registry look-up) and without telemetry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

SOURCE_NAME = "source-calltracking"
# PostgreSQL connection settings: libpq's own variables (what psql reads too), and one for the schema.
POSTGRES_DEFAULTS = {
    "PGHOST": "localhost",
    "PGPORT": "5432",
    "PGUSER": "postgres",
    "PGDATABASE": "postgres",
    "PGSCHEMA": "calltracking",
}


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


def postgres_settings(environ=os.environ) -> dict:
    """The PostgreSQL connection from PG* variables, with the defaults; `password` is the only secret."""
    settings = {name: environ.get(name) or default for name, default in POSTGRES_DEFAULTS.items()}
    return {
        "host": settings["PGHOST"],
        "port": int(settings["PGPORT"]),
        "username": settings["PGUSER"],
        "database": settings["PGDATABASE"],
        "schema_name": settings["PGSCHEMA"],
        "password": environ.get("PGPASSWORD", ""),
    }


def postgres_shown(settings: dict) -> str:
    """Where the tables are, for people: everything but the password."""
    return (
        f"postgresql://{settings['username']}@{settings['host']}:{settings['port']}/{settings['database']}"
        f" (schema {settings['schema_name']})"
    )


def faithful_postgres_cache_class():
    """PyAirbyte's PostgresCache with two fixes to how PyAirbyte 0.71.3 loads a batch, both of which lose data.

    - Values are loaded as the connector sent them. PyAirbyte reads its batch files with `pandas.read_json`,
      which guesses types: digit-only text becomes a number (a float where the column has nulls, so that
      ckct.ru's 17-digit `universalId` keys lose their last digits and distinct calls merge into one row), and
      columns named like dates (`date`, `*_at`, ...) become timestamps (RIA.com's "2024-01-01T00:00:00" is
      stored as "2024-01-01 00:00:00"). Here each line is parsed as JSON and kept as Python objects; the
      column types PyAirbyte declared from the schema are applied by the server.
    - A field typed as a union with "object" or "array" (e.g. CallKeeper's `visit_info`, ["object", "array",
      "null"]: an object, or an empty array) is JSON. PyAirbyte types a field by its one non-null type and
      falls back to VARCHAR for a union, and psycopg2 then refuses the dict ("can't adapt type 'dict'").
    """
    import gzip

    import pandas as pd
    import sqlalchemy
    from airbyte import exceptions
    from airbyte._processors.sql.postgres import PostgresSqlProcessor
    from airbyte.caches import PostgresCache
    from airbyte.types import SQLTypeConverter

    class NestedUnionsAsJson(SQLTypeConverter):
        def to_sql_type(self, json_schema_property_def):
            kinds = json_schema_property_def.get("type")
            concrete = {kind for kind in kinds if kind != "null"} if isinstance(kinds, list) else set()
            if len(concrete) > 1 and concrete & {"object", "array"}:
                return sqlalchemy.types.JSON()
            return super().to_sql_type(json_schema_property_def)

    class FaithfulPostgresSqlProcessor(PostgresSqlProcessor):
        type_converter_class = NestedUnionsAsJson

        def _write_files_to_new_table(self, files, stream_name, batch_id):
            # PyAirbyte 0.71.3's SqlProcessorBase._write_files_to_new_table, but for how each file is read.
            temp_table_name = self._create_table_for_loading(stream_name, batch_id)
            columns = self._get_sql_column_definitions(stream_name)
            for file_path in files:
                opener = gzip.open if str(file_path).endswith(".gz") else open
                with opener(file_path, "rt", encoding="utf-8") as lines:
                    rows = [json.loads(line) for line in lines if line.strip()]
                dataframe = pd.DataFrame(rows, dtype=object)
                dataframe = dataframe.drop(columns=[c for c in dataframe.columns if c not in columns])
                if not self._table_exists(temp_table_name):
                    raise exceptions.PyAirbyteInternalError(
                        message="Table does not exist after creation.", context={"temp_table_name": temp_table_name}
                    )
                dataframe.columns = pd.Index([self.normalizer.normalize(c) for c in dataframe.columns])
                dataframe.to_sql(
                    temp_table_name,
                    self.get_sql_alchemy_url(),
                    schema=self.sql_config.schema_name,
                    if_exists="append",
                    index=False,
                    dtype=columns,
                )
            return temp_table_name

    class FaithfulPostgresCache(PostgresCache):
        _sql_processor_class = FaithfulPostgresSqlProcessor

    return FaithfulPostgresCache


def make_cache(cache_path: Path, postgres: bool):
    if postgres:
        import sqlalchemy.exc

        settings = postgres_settings()
        cache_class, shown = faithful_postgres_cache_class(), postgres_shown(settings)
        # PyAirbyte pastes the password into a SQLAlchemy URL unquoted, and SQLAlchemy unquotes it when it parses
        # the URL: quoted here, a password with '@', ':', '/' or '%' reaches the server as it is.
        password = quote(settings["password"], safe="")
        try:  # the cache connects as it is made (it creates the schema)
            return cache_class(**{**settings, "password": password}), shown
        except sqlalchemy.exc.SQLAlchemyError as error:
            # One sentence, not a traceback, when the server refuses us (wrong password, no such database, ...). The
            # driver's message names host, port and user, never the password.
            cause = " ".join(str(getattr(error, "orig", None) or error).split())
            sys.exit(
                f"PostgreSQL: could not connect to {shown}: {cause}. Check PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE."
            )
    from airbyte.caches import DuckDBCache

    return DuckDBCache(db_path=cache_path, schema_name="main"), str(cache_path)


def sync(config: dict, executable: str, cache_path: Path, postgres: bool = False) -> dict:
    """Read every stream into the DuckDB file (or PostgreSQL); return what this run read and what the tables hold."""
    import airbyte as ab
    import airbyte.types

    # PyAirbyte prints a line for each field typed ["string", "integer", "null"] (the APIs send some
    # documented integers as text) before storing it as VARCHAR, which is what we want anyway.
    airbyte.types.print = lambda *args, **kwargs: None

    cache, shown = make_cache(cache_path, postgres)
    source = ab.get_source(SOURCE_NAME, local_executable=executable, config=config)
    source.select_all_streams()
    streams = {s.name: s for s in source.discovered_catalog.streams}
    had_state = cache.get_state_provider(source_name=source.name).known_stream_names
    result = source.read(cache=cache)
    # Records read per stream in this run, from PyAirbyte's progress tracker (`airbyte` is pinned).
    read_counts = dict(getattr(getattr(result, "_progress_tracker", None), "stream_read_counts", {}))

    summary = {
        "cache": shown,
        "kind": "postgres" if postgres else "duckdb",
        "records_read": result.processed_records,
        "streams": {},
    }
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
        print(
            f"\nIncremental run: {len(continued)} of {len(streams)} streams continued from the state saved in "
            f"{summary['cache']}; read {summary['records_read']} records: those since the saved cursor and, again, those "
            f"in the lookback window (merged by primary key)."
        )
    else:
        print(
            f"\nFirst run: read the whole history of {len(streams)} streams, {summary['records_read']} records. "
            f"Run again for an incremental sync."
        )
    width = max([len("stream")] + [len(name) for name in streams])
    print(f"  {'stream':{width}}  {'rows':>7}  {'read now':>8}  {'first cursor value':25}  last cursor value")
    for name, info in streams.items():
        print(
            f"  {name:{width}}  {info['rows']:>7}  {info['read_this_run']:>8}  {info['first'] or '-':25}  {info['last'] or '-'}"
        )
    if streams:
        first = next(iter(streams.values()))
        column = first["cursor_column"]
        query = (
            f"SELECT count(*), min({column}), max({column}) FROM {first['table']}"
            if column
            else f"SELECT * FROM {first['table']} LIMIT 5"
        )
        if summary.get("kind") == "postgres":
            schema = first["table"].split(".")[0]
            print(
                f"\nStored in {summary['cache']}: one table per stream, merged by primary key. Query it with "
                f"(psql reads the same PG* variables, PGPASSWORD included):"
            )
            print(f"  psql -c '{query}'")
            print(f'  psql -c "SELECT stream_name, state_json FROM {schema}._airbyte_state"   # the saved state')
        else:
            print(f"\nStored in {summary['cache']} (DuckDB: one table per stream, schema main). Query it with:")
            connect = f"duckdb.connect('{summary['cache']}', read_only=True)"
            print(f"  {python} -c \"import duckdb; db = {connect}; db.sql('{query}').show()\"")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="the connector config (JSON)")
    parser.add_argument("--executable", required=True, help="path of the source-calltracking executable")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("demo_output/calltracking.duckdb"),
        help="the DuckDB file (with --postgres: the folder of PyAirbyte's logs and scratch files is its folder)",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="write into PostgreSQL (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSCHEMA) instead of DuckDB",
    )
    parser.add_argument("--summary-json", type=Path, help="also write the summary here as JSON")
    args = parser.parse_args()
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    offline_environment(args.cache.parent.resolve())
    summary = sync(json.loads(args.config.read_text()), args.executable, args.cache, postgres=args.postgres)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, indent=2))
    python = Path(sys.executable)
    print_summary(summary, os.path.relpath(python) if python.is_relative_to(Path.cwd()) else str(python))


if __name__ == "__main__":
    main()
