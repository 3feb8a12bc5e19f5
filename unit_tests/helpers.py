"""What the HttpMocker tests of every provider share: one sync of one stream, run in-process by the
CDK's entrypoint wrapper (its requests go to the HttpMocker of the test), and the response templates
of unit_tests/resource/http/response/, the vendors' document samples, as `find_template` finds them."""

import copy
import functools

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http.response_builder import find_template

from source_calltracking import SourceCalltracking


def read_stream(config, stream, sync_mode=SyncMode.full_refresh) -> EntrypointOutput:
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    return read(SourceCalltracking(config=config, catalog=catalog), config, catalog)


@functools.cache
def _stored_template(resource):
    return find_template(resource, __file__)


def template(resource):
    """A fresh copy of unit_tests/resource/http/response/<resource>.json: the builders change what they get."""
    return copy.deepcopy(_stored_template(resource))
