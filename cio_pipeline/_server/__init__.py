"""A local server that behaves like Customer.io's Track API."""

from ._app import LocalTrackAPI
from ._faults import FaultAction, Faults

__all__ = ["FaultAction", "Faults", "LocalTrackAPI"]
