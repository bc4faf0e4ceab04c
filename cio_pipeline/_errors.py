"""The exceptions that cio_pipeline raises."""


class CioPipelineError(Exception):
    """Base class of every exception that cio_pipeline raises."""


class ValidationError(CioPipelineError, ValueError):
    """An argument of a call is invalid; the message names it and the fix."""


class CredentialsError(CioPipelineError):
    """The Track API rejected the site id and API key."""


class RegionMismatchError(CioPipelineError):
    """The workspace lives in another region than the client sends to."""


class TrackAPIError(CioPipelineError):
    """A synchronous request to the Track API failed."""
