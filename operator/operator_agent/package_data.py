"""Folders shipped inside a package (templates, static files, suites, skills), found with
importlib.resources, so an installed wheel has what a checkout has."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .protocols import ConfigError


def package_dir(package: str, *parts: str) -> Path:
    """`package`'s folder `parts` as a real directory: StaticFiles, Jinja2 and glob need one.

    A normal install (wheel or editable) unpacks package data onto disk, so the
    resource is a real path; a zipped install is not, and is refused clearly."""
    path = Path(str(resources.files(package).joinpath(*parts)))
    if not path.is_dir():
        where = "/".join((package.replace(".", "/"), *parts))
        raise ConfigError(f"{where} is missing from this install ({path} is not a folder): "
                          "reinstall operator-agent from its wheel, unzipped")
    return path
