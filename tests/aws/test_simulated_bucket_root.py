"""Where the simulated bucket lives: never the working directory (issue 11), and W020."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from patchbay import checks
from patchbay.aws.s3 import S3Client
from patchbay.aws.simulated import store

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulating(settings, tmp_path, monkeypatch):
    """Simulating in a project at tmp_path/project, run from there, as manage.py is."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    settings.PATCHBAY_SIMULATE = True
    settings.MEDIA_ROOT = ""  # startproject's default
    settings.BASE_DIR = project
    return settings


def files_under(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


def test_without_media_root_objects_never_land_in_the_working_directory(simulating):
    project = Path.cwd()
    assert S3Client().upload_fileobj(_content(b"hello"), "notes/a.txt")["success"]

    assert files_under(project) == []
    stored = store.root() / "patchbay-simulated" / "notes" / "a.txt"
    assert stored.read_bytes() == b"hello"
    assert Path(tempfile.gettempdir()) in stored.parents


def test_the_default_root_is_one_per_project(simulating, tmp_path):
    first = store.root()
    assert first.parent == Path(tempfile.gettempdir()) / "patchbay-s3"
    assert first.name.startswith("project-")
    simulating.BASE_DIR = tmp_path / "another"
    assert store.root() != first
    simulating.BASE_DIR = tmp_path / "project"
    assert store.root() == first


def test_without_base_dir_the_settings_module_and_working_directory_name_it(simulating):
    del simulating.BASE_DIR
    assert store.root().name.startswith("project-")


def test_under_media_root_when_it_is_set(simulating, tmp_path):
    simulating.MEDIA_ROOT = str(tmp_path / "media")
    assert store.root() == tmp_path / "media" / "patchbay-s3"


def test_the_setting_wins(simulating, tmp_path):
    simulating.MEDIA_ROOT = str(tmp_path / "media")
    simulating.PATCHBAY_SIMULATED_BUCKET_ROOT = str(tmp_path / "bucket")
    assert S3Client().upload_fileobj(_content(b"x"), "a.txt")["success"]
    assert (tmp_path / "bucket" / "patchbay-simulated" / "a.txt").read_bytes() == b"x"
    assert not (tmp_path / "media").exists()


class TestCheck:
    def ids(self):
        return [message.id for message in checks.check_simulated_bucket_root()]

    def test_defaults_pass(self, simulating):
        assert self.ids() == []

    def test_media_root_inside_the_project_passes(self, simulating):
        # MEDIA_ROOT is where the project already keeps uploaded files.
        simulating.MEDIA_ROOT = str(Path.cwd() / "media")
        assert self.ids() == []

    def test_a_root_inside_base_dir(self, simulating):
        simulating.PATCHBAY_SIMULATED_BUCKET_ROOT = str(Path.cwd() / "simulated-bucket")
        [warning] = checks.check_simulated_bucket_root()
        assert warning.id == "patchbay.W020"
        assert "simulated-bucket" in warning.msg
        assert "PATCHBAY_SIMULATED_BUCKET_ROOT" in warning.hint

    def test_a_relative_root_lands_in_the_working_directory(self, simulating, tmp_path):
        del simulating.BASE_DIR
        simulating.PATCHBAY_SIMULATED_BUCKET_ROOT = "simulated-bucket"
        assert self.ids() == ["patchbay.W020"]

    def test_base_dir_is_the_tree_when_defined(self, simulating, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)  # the working directory is above the project
        simulating.PATCHBAY_SIMULATED_BUCKET_ROOT = str(tmp_path / "outside-the-project")
        assert self.ids() == []

    def test_a_working_directory_at_the_file_system_root_is_no_tree(self, simulating, monkeypatch):
        del simulating.BASE_DIR
        monkeypatch.chdir(Path.cwd().anchor)  # e.g. WORKDIR / in a container
        assert self.ids() == []

    def test_silent_when_not_simulating(self, simulating):
        simulating.PATCHBAY_SIMULATE = False
        simulating.PATCHBAY_SIMULATED_BUCKET_ROOT = str(Path.cwd() / "simulated-bucket")
        assert self.ids() == []

    @pytest.mark.parametrize("value", [42, ["a"], b"bytes"])
    def test_the_setting_must_be_a_path(self, simulating, value):
        simulating.PATCHBAY_SIMULATED_BUCKET_ROOT = value
        assert [message.id for message in checks.check_settings_types()] == ["patchbay.E030"]
        assert self.ids() == []  # reported once, by the registry's rule


def _content(data: bytes):
    import io

    return io.BytesIO(data)
