"""Ships the dbt project inside the wheel (expansion_signals/dbt_project), so an installed
package runs the models without a checkout. Everything else is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
PROJECT_DIRS = ("models", "macros", "seeds", "tests/dbt")


class BuildWithDbtProject(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's own project
        target = Path(self.build_lib) / "expansion_signals" / "dbt_project"
        shutil.rmtree(target, ignore_errors=True)
        for name in PROJECT_FILES:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(HERE / name, target / name)
        for name in PROJECT_DIRS:
            shutil.copytree(HERE / name, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithDbtProject})
