"""The one family of refusals every service raises, and how any of them is answered."""


class ServiceError(ValueError):
    """A write a service refuses; str(exc) is a message for the user that names what is wrong."""

    status = 400


class ConflictError(ServiceError):
    """Someone else changed the record meanwhile; reloading and trying again is the answer."""

    status = 409
