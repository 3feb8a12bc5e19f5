"""A stdout that takes few bytes per write, for the output tests (test_output.py, test_singer_translation.py)."""

import io


class ShortWrites(io.RawIOBase):
    """A pipe whose every write takes at most `limit` bytes, as one does when a signal interrupts a
    blocking write part of the way (a profiler's ptrace stop, a handled signal)."""

    def __init__(self, limit):
        self.limit, self.data = limit, bytearray()

    def writable(self):
        return True

    def write(self, chunk):
        taken = bytes(chunk[: self.limit])
        self.data += taken
        return len(taken)
