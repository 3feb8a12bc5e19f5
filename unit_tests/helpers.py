"""What the HttpMocker tests of every provider share: one sync of one stream, run in-process by the
CDK's entrypoint wrapper (its requests go to the HttpMocker of the test)."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from source_calltracking import SourceCalltracking


def read_stream(config, stream, sync_mode=SyncMode.full_refresh) -> EntrypointOutput:
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    return read(SourceCalltracking(config=config, catalog=catalog), config, catalog)

