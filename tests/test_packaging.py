"""Packaging: the core install reads, checks, converts and scores IGT without
the model or web libraries; every import in src/ is declared; the README's
set-up commands are the ones CI runs, with the pinned versions.

A linguist who only wants ``check`` or ``convert`` installs ``autogloss``
alone (no torch, no transformers, no web server). These tests keep that true:
the core commands run in a subprocess where the extras' libraries cannot be
imported, and the imports read from the source are checked against
``pyproject.toml``.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from conftest import DEV, TRAIN
from test_layering import Import, module_name, read_imports

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "src" / "autogloss"
PROJECT = "autogloss"

#: The extra a subpackage's users install: all its imports must come with it.
EXTRA_OF_PACKAGE = {
    "autogloss.models.neural": "neural",
    "autogloss.models.lexicon": "neural",
    "autogloss.models.seq2seq": "seq2seq",
    "autogloss.web": "web",
}
#: The heavy libraries a core install must never need (a floor under the
#: blocked set, which is otherwise read from pyproject's extras).
NEVER_IN_CORE = {"torch", "transformers", "peft", "accelerate", "fastapi", "uvicorn", "safetensors"}


# -- pyproject ---------------------------------------------------------------------
def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _extra_requirements(project: dict, extra: str, seen: frozenset = frozenset()) -> list[Requirement]:
    """An extra's requirements with self-references (``autogloss[neural]``) expanded."""
    found: list[Requirement] = []
    for line in project["optional-dependencies"][extra]:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == PROJECT:
            for inner in sorted(requirement.extras - seen - {extra}):
                found += _extra_requirements(project, inner, seen | {extra})
        else:
            found.append(requirement)
    return found


def _core() -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in _pyproject()["dependencies"]}


def _extras() -> dict[str, set[str]]:
    """Each extra's distributions (self-references expanded), the core left out."""
    project = _pyproject()
    return {extra: {canonicalize_name(r.name) for r in _extra_requirements(project, extra)} - _core()
            for extra in project["optional-dependencies"]}


def _declared_ranges() -> dict[str, SpecifierSet]:
    project = _pyproject()
    ranges = {canonicalize_name(Requirement(line).name): Requirement(line).specifier for line in project["dependencies"]}
    for extra in project["optional-dependencies"]:
        ranges.update({canonicalize_name(r.name): r.specifier for r in _extra_requirements(project, extra)})
    return ranges


# -- imports read from the source -----------------------------------------------
def _third_party(found: Import) -> str | None:
    """The top-level name of a third-party import that runs (None for the
    standard library, autogloss itself and TYPE_CHECKING imports)."""
    top = found.module.split(".")[0]
    if found.type_only or not top or top == PROJECT or top in sys.stdlib_module_names or top == "__future__":
        return None
    return top


@functools.cache
def _provided() -> dict[str, list[str]]:
    return packages_distributions()


def _distributions(module: str) -> set[str]:
    return {canonicalize_name(dist) for dist in _provided().get(module, [])}


def _source_files() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


#: What a core install runs: the CLI module itself and everything below the
#: models (records, formats and documents, metrics, the corpus).
CORE_SEEDS = ("autogloss", "autogloss.__main__", "autogloss.cli", "autogloss.errors", "autogloss.records",
              "autogloss.fileio", "autogloss.datapath", "autogloss.normalise", "autogloss.metrics",
              "autogloss.formats", "autogloss.interlinear", "autogloss.corpus")


@functools.cache
def _core_modules() -> dict[str, str]:
    """Each module a core install imports, with how it gets there ("" for a
    seed, else 'file:line -> ...'): the seeds, their submodules, and all that
    these import at module level (a package's ``__init__`` runs before its
    submodules, so it comes along)."""
    files = {module_name(path): path for path in _source_files()}
    core = {name: "" for name in files if any(name == seed or name.startswith(seed + ".") and seed != PROJECT
                                              for seed in CORE_SEEDS)}
    todo = list(core)
    while todo:
        source = todo.pop()
        for found in read_imports(files[source]):
            if not found.module_level or found.type_only or not found.module.startswith(PROJECT):
                continue
            names = [found.module] + [f"{found.module}.{name}" for name in found.names]
            parts = found.module.split(".")
            names += [".".join(parts[:end]) for end in range(1, len(parts))]  # the packages around it
            for target in names:
                if target in files and target not in core:
                    core[target] = f"{core[source]}{files[source].relative_to(ROOT)}:{found.line} -> "
                    todo.append(target)
    return core


def _extra_for(module: str) -> str | None:
    for prefix, extra in EXTRA_OF_PACKAGE.items():
        if module == prefix or module.startswith(prefix + "."):
            return extra
    return None


def test_every_third_party_import_is_declared():
    core, extras = _core(), _extras()
    declared = core | set().union(*(dists for extra, dists in extras.items() if extra != "test"))
    problems = []
    for path in _source_files():
        for found in read_imports(path):
            module = _third_party(found)
            if module is None:
                continue
            dists = _distributions(module)
            where = f"{path.relative_to(ROOT)}:{found.line}"
            if not dists:
                problems.append(f"{where} imports {module}, which no installed distribution provides")
            elif not dists & declared:
                problems.append(f"{where} imports {module} ({', '.join(sorted(dists))}), "
                                f"declared neither in the core dependencies nor in an extra")
    assert not problems, "undeclared imports:\n" + "\n".join(problems)


def test_core_modules_import_only_core_dependencies_at_module_level():
    core, problems = _core(), []
    for path in _source_files():
        via = _core_modules().get(module_name(path))
        if via is None:
            continue
        for found in read_imports(path):
            module = _third_party(found)
            if found.module_level and module and not _distributions(module) & core:
                problems.append(f"{via}{path.relative_to(ROOT)}:{found.line} imports {module} at module level, "
                                f"but it is not a core dependency (import it where it is used, or keep the "
                                f"core from importing this module)")
    assert not problems, "a core install would fail:\n" + "\n".join(problems)


def test_each_extra_brings_what_its_package_imports():
    core, extras, problems = _core(), _extras(), []
    for path in _source_files():
        extra = _extra_for(module_name(path))
        if extra is None:
            continue
        for found in read_imports(path):
            module = _third_party(found)
            if module and not _distributions(module) & (core | extras[extra]):
                problems.append(f"{path.relative_to(ROOT)}:{found.line} imports {module}, "
                                f"which `pip install autogloss[{extra}]` does not install")
    assert not problems, "\n".join(problems)


def test_all_holds_every_extra_and_the_heavy_libraries_stay_out_of_the_core():
    extras = _extras()
    everything = set().union(*(dists for extra, dists in extras.items() if extra not in ("all", "test")))
    assert extras["all"] == everything, f"autogloss[all] misses {sorted(everything - extras['all'])}"
    assert not _core() & NEVER_IN_CORE, f"heavy libraries in the core: {sorted(_core() & NEVER_IN_CORE)}"
    assert "pydantic" in extras["web"], "the web app's schemas need pydantic"


# -- constraints --------------------------------------------------------------------
def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9._-]+)==([0-9][A-Za-z0-9.]*)", line)
            assert match, f"constraints.txt: '{line}' is not an exact pin (name==version)"
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_constraints_pin_every_declared_distribution_inside_its_range():
    pins, problems = _pins(), []
    for name, specifier in sorted(_declared_ranges().items()):
        if name not in pins:
            problems.append(f"{name}: declared but not pinned in constraints.txt")
        elif not specifier.contains(pins[name], prereleases=True):
            problems.append(f"{name}: pinned {pins[name]}, outside the declared range '{specifier}'")
    for line in _pyproject()["dependencies"]:
        if any(spec.operator in ("==", "===") for spec in Requirement(line).specifier):
            problems.append(f"pyproject.toml: '{line}' is an exact pin: declare a range, pin in constraints.txt")
    assert not problems, "\n".join(problems)


def test_the_installed_versions_are_the_pinned_ones():
    """The test environment is the one the constraints describe (torch's
    local label, +cpu, is ignored as pip ignores it)."""
    pins, problems = _pins(), []
    for name in sorted(_declared_ranges()):
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{name}: not installed")
            continue
        if not SpecifierSet(f"=={pins.get(name, '0')}").contains(installed, prereleases=True):
            problems.append(f"{name}: {installed} installed, constraints.txt pins {pins.get(name)}")
    assert not problems, "\n".join(problems)


# -- the README's set-up commands and CI --------------------------------------------
def _readme_commands() -> dict[str, str]:
    """The one-line command in the bash block under each bold heading at the
    README's top (before its first section)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    found = re.findall(r"^\*\*(.+?)\*\*.*?\n```bash\n(.+?)\n```", text, re.M | re.S)
    return {heading: command.strip() for heading, command in found}


def _readme_command(word: str) -> str:
    commands = [command for heading, command in _readme_commands().items() if word in heading.lower()]
    assert len(commands) == 1, f"README.md: expected one set-up command headed '...{word}...', found {len(commands)}"
    return commands[0]


def test_ci_runs_the_readme_test_command():
    command = _readme_command("tests")
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    runs = [line for line in ci if "pip install" in line or "-m pytest" in line]
    assert runs == [command], f".ci/run sets up and tests with {runs}, the README's test command is {command!r}"


def test_the_readme_commands_install_everything_at_the_pinned_versions():
    for word, extras in (("main job", {"all"}), ("tests", {"all", "test"})):
        words = shlex.split(_readme_command(word))
        install = [w for w in words if w.startswith(".[") or w == "."]
        assert install, f"README {word} command installs no project: {words}"
        assert set(install[0][2:-1].split(",")) >= extras, f"README {word} command installs {install[0]}, not {extras}"
        assert "-c" in words and words[words.index("-c") + 1] == "constraints.txt", \
            f"README {word} command does not install with -c constraints.txt"
    assert _readme_command("main job").endswith("autogloss pipeline --out runs")


# -- the core commands, with the extras' libraries blocked ---------------------
def _installed_with(names: set[str]) -> set[str]:
    """The distributions these bring along (their requirements, recursively,
    extras and other platforms' markers left out)."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requirements = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for line in requirements:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return found


def _blocked_modules() -> set[str]:
    """Top-level modules of the distributions that only the extras bring
    (not those a core dependency needs itself, as typer needs pydantic)."""
    only_extras = set().union(*(d for e, d in _extras().items() if e != "test")) - _installed_with(_core())
    return {module for module, dists in _provided().items()
            if {canonicalize_name(d) for d in dists} & only_extras} | NEVER_IN_CORE


FINDER = """\
import sys

BLOCKED = {blocked!r}


class _NotInstalled:
    \"\"\"Makes the extras' libraries look absent, as in a core install.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: not in the core install)", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
"""
RUN_CLI = """\
from autogloss.cli import main

sys.argv = ["autogloss", *sys.argv[1:]]
main()
"""


@pytest.fixture
def core_cli(tmp_path: Path):
    """Runs ``autogloss ARGS`` in tmp_path as a core install would."""
    runner = tmp_path / "core_autogloss.py"
    runner.write_text(FINDER.format(blocked=sorted(_blocked_modules())) + RUN_CLI, encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(runner), *map(str, args)], capture_output=True, text=True,
                              cwd=tmp_path)

    return run


def test_the_blocker_blocks_the_extras():
    """The harness itself: under it, importing torch or fastapi fails."""
    assert NEVER_IN_CORE | {"simplemma"} <= _blocked_modules()
    for module in ("torch", "fastapi"):
        result = subprocess.run([sys.executable, "-c", FINDER.format(blocked=sorted(_blocked_modules()))
                                 + f"import {module}"], capture_output=True, text=True)
        assert result.returncode != 0 and "blocked: not in the core install" in result.stderr, result.stderr


def test_core_check_without_the_extras(core_cli, tmp_path: Path):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "bad.txt").write_text("\\t a b\n\\m a b\n\\g x\n", encoding="utf-8")
    good = core_cli("check", "train.txt")
    assert good.returncode == 0, good.stderr
    assert "3 records checked, 0 alignment problem(s)" in good.stderr
    bad = core_cli("check", "bad.txt", "--json")
    assert bad.returncode == 1, bad.stderr
    assert json.loads(bad.stdout.splitlines()[0])["rule"] == 1


@pytest.mark.parametrize("target", ["out.jsonl", "out.flextext", "out.eaf", "out.sfm", "out.parquet", "out-cldf"])
def test_core_convert_without_the_extras(core_cli, tmp_path: Path, target: str):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    to = ["--to", "cldf"] if target == "out-cldf" else []
    there = core_cli("convert", "train.txt", target, *to)
    assert there.returncode == 0, there.stderr
    back = core_cli("convert", target, "back.txt", "--to", "sigmorphon")
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "back.txt").read_text(encoding="utf-8") == TRAIN + "\n"
    if target == "out.jsonl":
        first = json.loads((tmp_path / target).read_text(encoding="utf-8").splitlines()[0])
        assert (first["segmentation"], first["glosses"]) == ("ixiw raład b-oq-n", "big sea III-become-PST.UNW")


def test_core_evaluate_without_the_extras(core_cli, tmp_path: Path):
    (tmp_path / "gold.txt").write_text(DEV, encoding="utf-8")
    (tmp_path / "pred.txt").write_text(DEV.replace("man-ERG sea", "man-ERG story"), encoding="utf-8")
    result = core_cli("evaluate", "--gold", "gold.txt", "--pred", "pred.txt", "--json", "--bootstrap", "0")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["word_accuracy"] == pytest.approx(80.0)  # 4 of 5 words
    assert scores["morpheme_accuracy"] == pytest.approx(87.5)  # 7 of 8 morphemes


def test_core_corpus_build_without_the_extras(core_cli, mini_data: Path, tmp_path: Path):
    result = core_cli("corpus", "build", "--out", "corpus", "--data-dir", mini_data)
    assert result.returncode == 0, result.stderr
    splits = {path.name for path in (tmp_path / "corpus" / "data").glob("*.parquet")}
    assert splits == {"train.parquet", "dev.parquet", "test.parquet", "pretrain.parquet"}
    stats = core_cli("corpus", "stats", "corpus", "--json")
    assert stats.returncode == 0, stats.stderr
    # Tsez's 3 training and 2 dev sentences in both tracks, its test sentence
    # in both tracks; ODIN, Guarani and UraTyp's 5 sentences left after dedup
    assert json.loads(stats.stdout)["examples_by_split"] == {"train": 6, "dev": 4, "test": 2, "pretrain": 5}


def test_core_trains_and_glosses_with_the_majority_baseline(core_cli, tmp_path: Path):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "covered.txt").write_text("\\t ixiw raład boqno\n\\m ixiw raład b-oq-n\n\\g\n", encoding="utf-8")
    trained = core_cli("train", "--arch", "majority", "--train", "train.txt", "--out", "model")
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "model" / "README.md").is_file()  # the model card, written through huggingface_hub
    glossed = core_cli("gloss", "--model", "model", "--input", "covered.txt", "--output", "out.txt")
    assert glossed.returncode == 0, glossed.stderr
    assert "\\g big sea III-become-PST.UNW" in (tmp_path / "out.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, extra", [
    (["train", "--arch", "neural", "--train", "train.txt", "--out", "model"], "neural"),
    (["serve", "--model", "model"], "web"),
])
def test_a_command_that_needs_an_extra_names_it(core_cli, tmp_path: Path, args: list[str], extra: str):
    (tmp_path / "train.txt").write_text(TRAIN, encoding="utf-8")
    assert core_cli("train", "--arch", "majority", "--train", "train.txt", "--out", "model").returncode == 0
    result = core_cli(*args)
    assert result.returncode == 1
    assert f"pip install 'autogloss[{extra}]'" in result.stderr and "Traceback" not in result.stderr, result.stderr
