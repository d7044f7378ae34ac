"""Assertions shared by the API tests."""


def ids(response):
    """The ids of a collection response's primary data, in order."""
    return [resource["id"] for resource in response.document["data"]]


def the_error(response, status):
    """The single error object of a ``status`` response."""
    assert response.status_code == status, response.document
    [error] = response.document["errors"]
    assert error["status"] == str(status)
    assert error["id"] == response["X-Request-ID"]
    return error


def errors_by_pointer(response, status):
    """The error objects of a ``status`` response, keyed by their source pointer."""
    assert response.status_code == status, response.document
    errors = response.document["errors"]
    for error in errors:
        assert error["id"] == response["X-Request-ID"]
        assert error["detail"]
        assert error["code"]
    return {error["source"]["pointer"]: error for error in errors}
