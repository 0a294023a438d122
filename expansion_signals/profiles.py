"""The dbt profile, read the way dbt reads it: profiles.yml is the one home of the
warehouse connection and its defaults, for the models and the sync alike."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from expansion_signals.project import project_dir

PROFILE = "expansion_signals"


class ProfileError(ValueError):
    """The profile or the target asked for is not there."""


def _rendered(env: Mapping[str, str] | None) -> tuple[dict[str, Any], Any]:
    from dbt.config.profile import read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    set_invocation_context(dict(os.environ if env is None else env))
    raw = read_profile(str(project_dir()))
    if PROFILE not in raw:
        raise ProfileError(f"profiles.yml in {project_dir()} has no profile {PROFILE!r}")
    return raw[PROFILE], ProfileRenderer({})


def target_output(
    target: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """(target name, its rendered output): the target given, else the profile's default."""
    profile, renderer = _rendered(env)
    name = target or str(renderer.render_value(profile.get("target", "")))
    outputs = profile.get("outputs") or {}
    if name not in outputs:
        raise ProfileError(f"unknown target {name!r}: profiles.yml has "
                           + ", ".join(sorted(outputs)))
    return name, renderer.render_data(outputs[name])
