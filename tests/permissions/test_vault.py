"""The vault: encrypted storage, origin binding, placeholders, TOTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from operator_agent.permissions import vault_store
from operator_agent.permissions.placeholders import placeholder, refs_in
from operator_agent.permissions.totp import decode_seed, totp
from operator_agent.permissions.vault import (
    SecretNotAllowed,
    UnknownSecret,
    Vault,
    VaultError,
    canonical_origin,
)
from operator_agent.permissions.vault_store import FileStore, KeyringStore, MemoryStore, open_store
from operator_agent.protocols import ConfigError

SHOP = "https://shop.example"
FAST = 2**10  # scrypt cost for tests; real vaults use 2**15


def filled(vault: Vault | None = None) -> Vault:
    v = vault or Vault()
    v.add_password("shop", "correct horse battery", origins=[SHOP], description="Brightcart login")
    v.add_card("visa", number="4242 4242 4242 4242", exp_month=4, exp_year=30, cvc="123",
               holder="Ada Lovelace", origins=["https://pay.example:443", SHOP])
    v.add_totp("shop_2fa", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", origins=[SHOP])
    return v


def test_file_backend_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "vault.json"
    filled(Vault(FileStore(path, "open sesame", kdf_n=FAST)))
    raw = path.read_text()
    assert "correct horse" not in raw and "4242" not in raw and "Brightcart" not in raw
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = Vault(FileStore(path, "open sesame"))  # parameters come from the file
    assert again.names() == ["shop", "shop_2fa", "visa"]
    assert again.resolve("{{secret:shop}}", SHOP) == "correct horse battery"
    again.remove("shop")
    assert Vault(FileStore(path, "open sesame")).names() == ["shop_2fa", "visa"]


def test_wrong_key_and_damaged_files_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "vault.json"
    filled(Vault(FileStore(path, "right", kdf_n=FAST)))
    with pytest.raises(ConfigError, match="wrong OPERATOR_VAULT_KEY"):
        Vault(FileStore(path, "wrong"))
    envelope = json.loads(path.read_text())
    envelope["n"] = 2**40  # a crafted file must not make us allocate terabytes
    path.write_text(json.dumps(envelope))
    with pytest.raises(ConfigError, match="not an operator-agent vault"):
        Vault(FileStore(path, "right"))
    path.write_text("not json")
    with pytest.raises(ConfigError, match="not an operator-agent vault"):
        Vault(FileStore(path, "right"))
    # Tampering with the authenticated header is detected too.
    filled(Vault(FileStore(tmp_path / "v2.json", "right", kdf_n=FAST)))
    envelope = json.loads((tmp_path / "v2.json").read_text())
    envelope["format"] = "operator-agent-vault"
    envelope["r"] = 9
    (tmp_path / "v2.json").write_text(json.dumps(envelope))
    with pytest.raises(ConfigError):
        Vault(FileStore(tmp_path / "v2.json", "right"))


def test_missing_key_says_how_to_set_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="set OPERATOR_VAULT_KEY") as err:
        open_store(tmp_path / "vault.json", backend="file")
    assert "\n" not in str(err.value)
    monkeypatch.setenv("OPERATOR_VAULT_KEY", "from env")
    store = open_store(tmp_path / "vault.json", backend="file")
    assert isinstance(store, FileStore)


class FakeKeyring:
    """What the keyring package's backends offer."""

    priority = 5

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.data.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        self.data[(service, user)] = value

    def delete_password(self, service: str, user: str) -> None:
        self.data.pop((service, user), None)


def test_keyring_backend_when_usable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = FakeKeyring()
    store = open_store(tmp_path / "vault.json", keyring_backend=ring)
    assert isinstance(store, KeyringStore)
    filled(Vault(store))
    assert len([k for k in ring.data if k[0] == vault_store.SERVICE]) == 4  # three secrets + index
    assert Vault(KeyringStore(ring)).resolve("{{secret:visa.cvc}}", SHOP) == "123"
    Vault(KeyringStore(ring)).remove("visa")
    assert (vault_store.SERVICE, "visa") not in ring.data
    # An existing vault file is where the secrets are: it wins over a keyring.
    (tmp_path / "vault.json").write_text("{}")
    monkeypatch.setenv("OPERATOR_VAULT_KEY", "k")
    assert isinstance(open_store(tmp_path / "vault.json", keyring_backend=ring), FileStore)


def test_usable_keyring_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    class Fail(FakeKeyring):
        priority = 0

    class Locked(FakeKeyring):
        def get_password(self, service: str, user: str) -> str | None:
            raise RuntimeError("the keyring is locked")

    for backend, usable in ((FakeKeyring(), True), (Fail(), False), (Locked(), False)):
        fake = types.ModuleType("keyring")
        fake.get_keyring = lambda b=backend: b  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "keyring", fake)
        assert (vault_store.usable_keyring() is backend) is usable, type(backend).__name__
    monkeypatch.setitem(sys.modules, "keyring", None)  # not installed
    assert vault_store.usable_keyring() is None


def test_open_if_set_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_store, "usable_keyring", lambda: None)
    import operator_agent.permissions.vault as vault_module

    monkeypatch.setattr(vault_module, "usable_keyring", lambda: None)
    assert Vault.open_if_set_up(tmp_path / "v.json") is None  # nothing set up: no vault, no error
    filled(Vault(FileStore(tmp_path / "v.json", "k", kdf_n=FAST)))
    with pytest.raises(ConfigError, match="set OPERATOR_VAULT_KEY"):
        Vault.open_if_set_up(tmp_path / "v.json")  # a vault the person cannot open is an error
    monkeypatch.setenv("OPERATOR_VAULT_KEY", "k")
    opened = Vault.open_if_set_up(tmp_path / "v.json")
    assert opened is not None and opened.names() == ["shop", "shop_2fa", "visa"]
    ring = FakeKeyring()
    monkeypatch.delenv("OPERATOR_VAULT_KEY")
    monkeypatch.setattr(vault_module, "usable_keyring", lambda: ring)
    assert isinstance(Vault.open_if_set_up(tmp_path / "none.json").store, KeyringStore)  # type: ignore[union-attr]


def test_no_usable_keyring_falls_back_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_store, "usable_keyring", lambda: None)
    with pytest.raises(ConfigError, match="set OPERATOR_VAULT_KEY"):
        open_store(tmp_path / "v.json")
    with pytest.raises(ConfigError, match="no usable OS keyring"):
        open_store(tmp_path / "v.json", backend="keyring")
    monkeypatch.setenv("OPERATOR_VAULT_BACKEND", "floppy")
    with pytest.raises(ConfigError, match="OPERATOR_VAULT_BACKEND"):
        open_store(tmp_path / "v.json")


def test_origin_binding() -> None:
    v = filled()
    text = "{{secret:visa.number}}"
    assert v.resolve(text, "https://shop.example/checkout?step=2") == "4242424242424242"
    assert v.resolve(text, "https://pay.example") == "4242424242424242"
    for wrong in ("http://shop.example", "https://shop.example:8443", "https://evil.example",
                  "https://shop.example.evil.example", "https://shop.example@evil.example/", "not a url", ""):
        with pytest.raises(SecretNotAllowed):
            v.resolve(text, wrong)
    with pytest.raises(SecretNotAllowed):  # one unbound secret spoils the whole text
        v.resolve("{{secret:visa.number}} {{secret:shop}}", "https://pay.example")
    with pytest.raises(UnknownSecret, match="known: shop, shop_2fa, visa"):
        v.resolve("{{secret:mastercard}}", SHOP)
    with pytest.raises(UnknownSecret, match="no field"):
        v.resolve("{{secret:shop.cvc}}", SHOP)
    assert v.resolve("{{secret:visa.exp}} / {{secret:visa.exp_year}}", SHOP) == "04/30 / 2030"
    assert v.resolve("no placeholders", "https://anything.example") == "no placeholders"
    assert issubclass(SecretNotAllowed, VaultError)


def test_placeholders_show_no_values() -> None:
    v = filled()
    shown = v.prompt_text()
    for p in ("{{secret:shop}}", "{{secret:visa.number}}", "{{secret:shop_2fa.totp}}"):
        assert p in shown
    assert "Brightcart login" in shown and "https://shop.example:443" in shown
    for value in v.values():
        assert value not in shown
    assert refs_in("a {{secret:visa.cvc}} b {{secret:shop}}") == refs_in(
        placeholder("visa", "cvc") + placeholder("shop"))


def test_values_for_the_redactor() -> None:
    values = filled().values()
    for v in ("correct horse battery", "4242424242424242", "4242 4242 4242 4242", "123",
              "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"):
        assert v in values


def test_bad_secrets_are_refused() -> None:
    v = Vault()
    with pytest.raises(ValueError, match="origin"):
        v.add_password("x", "pw", origins=[])
    with pytest.raises(ValueError, match="not an http"):
        v.add_password("x", "pw", origins=["javascript:alert(1)"])
    with pytest.raises(ValueError, match="secret name"):
        v.add_password("Bad Name", "pw", origins=[SHOP])
    with pytest.raises(ValueError, match="12 to 19 digits"):
        v.add_card("c", number="1234", exp_month=1, exp_year=2030, cvc="123", origins=[SHOP])
    with pytest.raises(ValueError, match="base32"):
        v.add_totp("t", "not base32!", origins=[SHOP])
    assert canonical_origin("HTTPS://Shop.Example:443/x") == "https://shop.example:443"


# RFC 6238 appendix B: (time, SHA1, SHA256, SHA512) with 8 digits.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
KEYS = {"SHA1": b"12345678901234567890", "SHA256": b"12345678901234567890123456789012",
        "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234"}


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC6238)
def test_totp_rfc6238_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        assert totp(KEYS[algorithm], at=at, digits=8, algorithm=algorithm) == expected


def test_totp_placeholder_uses_the_clock() -> None:
    import base64

    now = [59.0]
    v = Vault(MemoryStore(), clock=lambda: now[0])
    seed = base64.b32encode(KEYS["SHA1"]).decode().rstrip("=").lower()  # as apps show it
    v.add_totp("bank", seed, origins=[SHOP], digits=8)
    assert decode_seed(seed) == KEYS["SHA1"]
    assert v.resolve("{{secret:bank.totp}}", SHOP) == "94287082"
    now[0] = 1111111109
    assert v.resolve("{{secret:bank}}", SHOP) == "07081804"
