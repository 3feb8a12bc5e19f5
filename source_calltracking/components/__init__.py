"""The custom components the manifest names, one module per provider, and what they share.

shared.py          the error handler whose filters parse a body once, a requester base, the schema type guard
answers.py         each answer read once, a large one from a file a segment at a time
reconciliation.py  every window checked against the count the API reports for it
windows.py         window bounds, and a moment as an API's wall-clock time
calltracking.py    CallKeeper call tracking (ckct.ru)
callkeeper.py      CallKeeper REST API (with callkeeper_statuses.py, the document's status table)
ria.py             RIA.com calls_stat
uis.py             UIS / CoMagic / CallGear Data API (with uis_fields.json, generated)
"""
