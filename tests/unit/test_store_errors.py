"""An object store's error during a publish: its short reason and the endpoint it names."""

from __future__ import annotations

from mesh_platform.ports.store_errors import endpoint, store_error

# pyarrow 25's text for a refused connection (tests/integration/test_s3_faults.py stops a server)
REFUSED = (
    "When reading information for key 'lake/d/p/v1/metadata/00002-x.metadata.json' in bucket "
    "'lake': AWS Error NETWORK_CONNECTION during HeadObject operation: curlCode: 7, Could not "
    "connect to server; Details: Failed to connect to 127.0.0.1 port 1 after 0 ms"
)


def test_an_s3_error_is_told_by_its_code_operation_and_text():
    assert store_error(OSError(REFUSED)) == (
        "NETWORK_CONNECTION during HeadObject: curlCode: 7, Could not connect to server"
    )


def test_other_errors_are_not_the_stores():
    assert store_error(OSError("[Errno 28] No space left on device")) is None
    assert store_error(ValueError("AWS Error in a value")) is None


def test_the_endpoint_is_named_without_its_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("PYICEBERG_CATALOG__MESH__S3__ENDPOINT", "http://user:pw@store:9000")
    assert endpoint(tmp_path) == "http://user:***@store:9000"
    monkeypatch.delenv("PYICEBERG_CATALOG__MESH__S3__ENDPOINT")
    monkeypatch.setenv("PYICEBERG_CATALOG__MESH__S3__REGION", "eu-west-1")
    assert endpoint(tmp_path) == "AWS S3 (eu-west-1)"
