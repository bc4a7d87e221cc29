"""Where the permission layer keeps its files: the policy (config), the audit
log and the vault (data). Each can be moved with an environment variable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "operator-agent"


def config_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / APP


def data_dir() -> Path:
    if sys.platform in ("win32", "darwin"):
        return config_dir()
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / APP


def policy_path() -> Path:
    """OPERATOR_POLICY, else policy.toml in the user's config folder."""
    env = os.environ.get("OPERATOR_POLICY")
    return Path(env).expanduser() if env else config_dir() / "policy.toml"


def audit_path() -> Path:
    """OPERATOR_AUDIT_DB, else audit.db in the user's data folder."""
    env = os.environ.get("OPERATOR_AUDIT_DB")
    return Path(env).expanduser() if env else data_dir() / "audit.db"


def vault_path() -> Path:
    """OPERATOR_VAULT, else vault.json (encrypted) in the user's data folder."""
    env = os.environ.get("OPERATOR_VAULT")
    return Path(env).expanduser() if env else data_dir() / "vault.json"
