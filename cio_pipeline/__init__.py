"""A batching client for the Customer.io Track API."""

from ._client import Client
from ._errors import (
    CioPipelineError,
    CredentialsError,
    RegionMismatchError,
    TrackAPIError,
    ValidationError,
)
from ._records import (
    AddDevice,
    AnonymousEvent,
    Delete,
    DeleteDevice,
    Event,
    Identify,
    Merge,
    Metric,
    Operation,
    Record,
    SegmentMembership,
    Suppress,
    Unsuppress,
)
from ._results import FlushResult, Reason, Stats
from ._server import LocalTrackAPI
from ._version import __version__

__all__ = [
    "AddDevice",
    "AnonymousEvent",
    "CioPipelineError",
    "Client",
    "CredentialsError",
    "Delete",
    "DeleteDevice",
    "Event",
    "FlushResult",
    "Identify",
    "LocalTrackAPI",
    "Merge",
    "Metric",
    "Operation",
    "Reason",
    "Record",
    "RegionMismatchError",
    "SegmentMembership",
    "Stats",
    "Suppress",
    "TrackAPIError",
    "Unsuppress",
    "ValidationError",
    "__version__",
]
