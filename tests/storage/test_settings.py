"""STORAGE_BACKEND and the S3_* settings: defaults, what is refused (one line naming the
variable), and that the keys never show in `config check`'s text or a repr."""

from __future__ import annotations

import pytest

from chatalot.config import ConfigError, load_settings
from chatalot.storage.factory import describe_blob_store, open_blob_store
from chatalot.storage.local import LocalBlobStore
from chatalot.storage.s3 import S3BlobStore

BASE = {"CHATALOT_ENV": "dev", "FILE_STORAGE_PATH": "/srv/files"}
S3 = {
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": "chat-files",
    "S3_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID",
    "S3_SECRET_ACCESS_KEY": "very-secret-access-key",
}


def test_local_is_the_default() -> None:
    settings = load_settings(BASE)
    assert (settings.storage_backend, settings.s3) == ("local", None)
    store = open_blob_store(settings)
    assert isinstance(store, LocalBlobStore) and str(store.root) == "/srv/files"
    assert describe_blob_store(store) == "local /srv/files"
    assert settings.redacted()["STORAGE_BACKEND"] == "local"
    assert settings.redacted()["S3_SECRET_ACCESS_KEY"] == "(unset)"


def test_aws_defaults() -> None:
    settings = load_settings({**BASE, **S3})
    s3 = settings.s3
    assert s3 is not None
    assert (s3.endpoint, s3.region, s3.prefix, s3.force_path_style) == (
        None,
        "us-east-1",
        "",
        False,
    )
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    assert describe_blob_store(store) == "s3://chat-files at AWS us-east-1"


def test_an_endpoint_means_path_style_and_http_is_allowed() -> None:
    settings = load_settings(
        {**BASE, **S3, "S3_ENDPOINT": "http://minio:9000/", "S3_PREFIX": "/chatalot/prod/"}
    )
    s3 = settings.s3
    assert s3 is not None
    assert (s3.endpoint, s3.prefix, s3.force_path_style) == (
        "http://minio:9000",
        "chatalot/prod",
        True,
    )
    store = open_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    assert store.description == "s3://chat-files/chatalot/prod at http://minio:9000"
    off = load_settings(
        {**BASE, **S3, "S3_ENDPOINT": "https://s3.x", "S3_FORCE_PATH_STYLE": "FALSE"}
    )
    assert off.s3 is not None and off.s3.force_path_style is False


def test_secrets_are_masked_and_never_in_a_repr() -> None:
    settings = load_settings({**BASE, **S3, "S3_ENDPOINT": "https://garage.example:3900"})
    shown = settings.redacted()
    assert shown["S3_ACCESS_KEY_ID"] == shown["S3_SECRET_ACCESS_KEY"] == "***"
    assert shown["S3_ENDPOINT"] == "https://garage.example:3900"
    for text in (repr(settings), str(shown)):
        assert "very-secret-access-key" not in text and "AKIAEXAMPLEKEYID" not in text


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"STORAGE_BACKEND": "s3"},
            "S3_BUCKET: must be set with STORAGE_BACKEND=s3 (the bucket that holds the files)",
        ),
        (
            {"STORAGE_BACKEND": "s3", "S3_BUCKET": "files"},
            "S3_ACCESS_KEY_ID: must be set with STORAGE_BACKEND=s3",
        ),
        (
            {"STORAGE_BACKEND": "s3", "S3_BUCKET": "files", "S3_ACCESS_KEY_ID": "k"},
            "S3_SECRET_ACCESS_KEY: must be set with STORAGE_BACKEND=s3",
        ),
        (
            {"S3_BUCKET": "files", "S3_ACCESS_KEY_ID": "k"},
            "S3_SECRET_ACCESS_KEY: must be set when S3_BUCKET is set",
        ),
        ({"STORAGE_BACKEND": "gcs"}, "STORAGE_BACKEND: must be one of local, s3 (got 'gcs')"),
        ({**S3, "S3_BUCKET": "a/b"}, "S3_BUCKET: is not a bucket name (got 'a/b')"),
        (
            {**S3, "S3_ENDPOINT": "minio:9000"},
            "S3_ENDPOINT: must be an http:// or https:// URL without credentials, e.g. "
            "http://minio:9000 (got 'minio:9000')",
        ),
        (
            {**S3, "S3_ENDPOINT": "http://user:pw@minio:9000"},
            "S3_ENDPOINT: must be an http:// or https:// URL without credentials, e.g. "
            "http://minio:9000 (got 'http://user:pw@minio:9000')",
        ),
        (
            {**S3, "S3_REGION": "Mars 1"},
            "S3_REGION: must be a region name such as us-east-1 (got 'Mars 1')",
        ),
        (
            {**S3, "S3_PREFIX": "a/../b"},
            "S3_PREFIX: must be /-separated names of letters, digits, '.', '_' and '-' (not "
            "starting with a dot), e.g. chatalot/files (got 'a/../b')",
        ),
        (
            {**S3, "S3_PREFIX": "a//b"},
            "S3_PREFIX: must be /-separated names of letters, digits, '.', '_' and '-' (not "
            "starting with a dot), e.g. chatalot/files (got 'a//b')",
        ),
        (
            {**S3, "S3_FORCE_PATH_STYLE": "maybe"},
            "S3_FORCE_PATH_STYLE: must be one of true, false (got 'maybe')",
        ),
    ],
)
def test_bad_storage_settings_are_one_line_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as failed:
        load_settings({**BASE, **env})
    assert str(failed.value) == message
