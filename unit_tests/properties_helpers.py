"""What the property-based tests of every provider share (unit_tests/*/test_properties.py): the JSON
values hypothesis builds bodies of, and a 200 response with any body, as the extractors get it."""

import io

import requests
from hypothesis import strategies as st


def json_values(*, text_size, alphabet, samples=(), integer_bound=2**62, max_leaves=6):
    """Any JSON value: null, booleans, integers within ±`integer_bound`, finite floats, text (up to
    `text_size` characters), text of the `alphabet` (up to 20) and the provider's `samples`, nested in
    lists and objects (up to `max_leaves` scalars)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-integer_bound, max_value=integer_bound),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=text_size),
        st.text(alphabet=alphabet, max_size=20),
        *([st.sampled_from(samples)] if samples else []),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=max_leaves,
    )


def response_of(content: bytes) -> requests.Response:
    """A 200 response with this body, unread, as the requester hands it on (no private attribute set)."""
    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(content)
    return response
