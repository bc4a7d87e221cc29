"""Where vault records live: the OS keyring when one is present and usable, else
a file encrypted with AES-GCM under a key derived (scrypt) from a passphrase.

A record is a small JSON-able dict (kind, fields, origins, description); the
store never interprets it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from ..private_files import private_dir, tighten
from ..protocols import ConfigError
from . import paths

KEY_ENV = "OPERATOR_VAULT_KEY"
BACKEND_ENV = "OPERATOR_VAULT_BACKEND"  # "keyring" | "file": overrides the automatic choice
SERVICE = "operator-agent-vault"
_INDEX = "__index__"
_FORMAT = "operator-agent-vault"
# Bounds for a file's KDF parameters: a crafted file must not make us allocate gigabytes.
_MAX_N, _MAX_R, _MAX_P = 2**20, 16, 4

Records = dict[str, dict[str, Any]]


class VaultStore(Protocol):
    description: str

    def load(self) -> Records: ...

    def save(self, records: Records) -> None: ...


class MemoryStore:
    """Nothing persisted (tests, the Python API)."""

    description = "memory"

    def __init__(self) -> None:
        self._records: Records = {}

    def load(self) -> Records:
        return json.loads(json.dumps(self._records))

    def save(self, records: Records) -> None:
        self._records = json.loads(json.dumps(records))


class FileStore:
    """One JSON envelope: scrypt parameters and salt, a nonce, and the AES-GCM
    ciphertext of the records. The envelope header is authenticated too."""

    def __init__(self, path: Path | str, passphrase: str, *, kdf_n: int = 2**15) -> None:
        if not passphrase:
            raise ConfigError(f"the vault {path} needs a passphrase: set {KEY_ENV}")
        self.path = Path(path).expanduser()
        self.description = f"encrypted file {self.path}"
        self._passphrase = passphrase.encode("utf-8")
        self._kdf_n = kdf_n
        self._header: dict[str, Any] | None = None
        self._key: bytes | None = None

    def load(self) -> Records:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            tighten(self.path)  # a vault file left readable by others is made owner-only
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read the vault ({exc.strerror})") from None
        try:
            envelope = json.loads(raw)
            header = {k: envelope[k] for k in ("format", "version", "kdf", "n", "r", "p", "salt")}
            nonce = base64.b64decode(envelope["nonce"], validate=True)
            ciphertext = base64.b64decode(envelope["ciphertext"], validate=True)
            if header["format"] != _FORMAT or header["version"] != 1 or header["kdf"] != "scrypt":
                raise ValueError("unknown format")
            key = self._derive(header)
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{self.path}: not an operator-agent vault file") from None
        try:
            plain = AESGCM(key).decrypt(nonce, ciphertext, _aad(header))
        except (InvalidTag, ValueError):
            raise ConfigError(f"{self.path}: cannot open the vault: wrong {KEY_ENV}, "
                              "or the file was changed") from None
        self._header, self._key = header, key
        records = json.loads(plain)
        return records if isinstance(records, dict) else {}

    def save(self, records: Records) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._header is None or self._key is None:
            self._header = {"format": _FORMAT, "version": 1, "kdf": "scrypt", "n": self._kdf_n, "r": 8,
                            "p": 1, "salt": base64.b64encode(secrets.token_bytes(16)).decode()}
            self._key = self._derive(self._header)
        nonce = secrets.token_bytes(12)  # fresh for every write under the same key
        ciphertext = AESGCM(self._key).encrypt(nonce, json.dumps(records).encode(), _aad(self._header))
        envelope = {**self._header, "nonce": base64.b64encode(nonce).decode(),
                    "ciphertext": base64.b64encode(ciphertext).decode()}
        _write_private(self.path, json.dumps(envelope, indent=1).encode())

    def _derive(self, header: dict[str, Any]) -> bytes:
        n, r, p = header["n"], header["r"], header["p"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n, r, p)):
            raise ValueError("bad KDF parameters")
        if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
            raise ValueError("KDF parameters out of bounds")
        salt = base64.b64decode(header["salt"], validate=True)
        return hashlib.scrypt(self._passphrase, salt=salt, n=n, r=r, p=p, dklen=32,
                              maxmem=256 * r * n + 2**20)


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True).encode()


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename) with owner-only permissions."""
    private_dir(path.parent, tighten=path.parent.name == paths.APP)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class KeyringStore:
    """One keyring entry per secret plus an index entry (some OS keyrings cap the
    size of one entry, so the whole vault is not one blob)."""

    def __init__(self, backend: Any, *, service: str = SERVICE) -> None:
        self.backend = backend  # a keyring backend: get_password / set_password / delete_password
        self.service = service
        self.description = f"OS keyring ({type(backend).__name__})"

    def load(self) -> Records:
        names = json.loads(self.backend.get_password(self.service, _INDEX) or "[]")
        records: Records = {}
        for name in names:
            raw = self.backend.get_password(self.service, name)
            if raw:
                records[name] = json.loads(raw)
        return records

    def save(self, records: Records) -> None:
        old = set(json.loads(self.backend.get_password(self.service, _INDEX) or "[]"))
        for name, record in records.items():
            self.backend.set_password(self.service, name, json.dumps(record))
        self.backend.set_password(self.service, _INDEX, json.dumps(sorted(records)))
        for name in old - set(records):
            with contextlib.suppress(Exception):
                self.backend.delete_password(self.service, name)


def usable_keyring() -> Any | None:
    """The OS keyring backend when the `keyring` package is installed and has a real
    backend that answers; None otherwise (headless Linux usually has none)."""
    try:
        import keyring  # type: ignore[import-not-found]

        backend = keyring.get_keyring()
    except Exception:
        return None
    module = type(backend).__module__
    if getattr(backend, "priority", 0) < 1 or module.endswith((".fail", ".null")):
        return None
    try:
        backend.get_password(SERVICE, _INDEX)  # a locked or missing service raises here
    except Exception:
        return None
    return backend


def open_store(path: Path | str | None = None, *, passphrase: str | None = None,
               backend: str = "auto", keyring_backend: Any | None = None) -> VaultStore:
    """The store for this person's vault. `backend`: "auto" (an existing vault file,
    else the OS keyring if usable, else a new file), "keyring" or "file"."""
    choice = backend if backend != "auto" else os.environ.get(BACKEND_ENV, "auto")
    if choice not in ("auto", "keyring", "file"):
        raise ConfigError(f"{BACKEND_ENV}: expected keyring or file, got {choice!r}")
    file_path = Path(path).expanduser() if path is not None else paths.vault_path()
    if choice != "file" and not (choice == "auto" and file_path.exists()):
        kr = keyring_backend or usable_keyring()
        if kr is not None:
            return KeyringStore(kr)
        if choice == "keyring":
            raise ConfigError("no usable OS keyring: install the 'keyring' package with a keyring "
                              f"service, or set {BACKEND_ENV}=file and {KEY_ENV}")
    key = passphrase or os.environ.get(KEY_ENV)
    if not key:
        raise ConfigError(f"the vault {file_path} needs a key: set {KEY_ENV} to a passphrase "
                          "(or use an OS keyring: pip install keyring)")
    return FileStore(file_path, key)
