"""Model bundles are written atomically, verified on load, and refused when tampered with."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import train_bare_bundle, write_flat_dataset
from vroegsignaal.errors import ConfigError, ModelBundleError
from vroegsignaal.scoring.bundle import MSG_CHECKSUM_MISMATCH, MSG_NOT_A_BUNDLE, load_bundle


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    config = write_flat_dataset(folder / "data")
    return train_bare_bundle(config, folder / "model")


def copy_bundle(bundle_dir, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(bundle_dir, target)
    return target


def test_bundle_loads_with_its_features_and_version(bundle_dir):
    bundle = load_bundle(bundle_dir)
    assert bundle.feature_names == ("arrears_eur", "months_in_arrears", "region", "income_eur")
    assert bundle.model_version.startswith("flat-test-20261101T120000Z-")
    assert bundle.feature_set == "custom"
    assert set(bundle.manifest["checksums"]) >= {"model.txt", "preprocess.json", "calibration.json", "config.yaml"}


def test_bundle_holds_no_pickle(bundle_dir):
    assert not [p for p in bundle_dir.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]


def test_edited_model_file_is_refused(bundle_dir, tmp_path):
    target = copy_bundle(bundle_dir, tmp_path)
    with (target / "model.txt").open("a") as handle:
        handle.write("\n")
    with pytest.raises(ModelBundleError, match=f"'model.txt' {MSG_CHECKSUM_MISMATCH}"):
        load_bundle(target)


@pytest.mark.parametrize("checksums", [None, {}, ["model.txt"], "drop model.txt"])
def test_a_manifest_that_does_not_cover_every_file_read_is_refused(bundle_dir, tmp_path, checksums):
    target = copy_bundle(bundle_dir, tmp_path)
    manifest = json.loads((target / "manifest.json").read_text())
    if checksums == "drop model.txt":
        del manifest["checksums"]["model.txt"]
    else:
        manifest["checksums"] = checksums
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelBundleError, match="no checksums|'model.txt' has no checksum"):
        load_bundle(target)


def test_missing_file_is_refused(bundle_dir, tmp_path):
    target = copy_bundle(bundle_dir, tmp_path)
    (target / "bands.json").unlink()
    with pytest.raises(ModelBundleError, match="'bands.json' is missing"):
        load_bundle(target)


def test_folder_without_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(ModelBundleError, match=re.escape(MSG_NOT_A_BUNDLE)):
        load_bundle(tmp_path)


def test_bundle_with_sensitive_feature_in_manifest_is_refused(bundle_dir, tmp_path):
    target = copy_bundle(bundle_dir, tmp_path)
    preprocess = json.loads((target / "preprocess.json").read_text())
    preprocess["feature_names"][0] = "gender"
    preprocess["numeric_ranges"]["gender"] = preprocess["numeric_ranges"].pop("arrears_eur")
    (target / "preprocess.json").write_text(json.dumps(preprocess))
    manifest = json.loads((target / "manifest.json").read_text())
    from vroegsignaal.scoring.bundle import sha256_file

    manifest["checksums"]["preprocess.json"] = sha256_file(target / "preprocess.json")
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Exception, match="sensitive"):
        load_bundle(target)


def test_writing_into_a_non_empty_folder_is_refused(bundle_dir, tmp_path):
    folder = tmp_path / "data"
    config = write_flat_dataset(folder)
    with pytest.raises(ConfigError, match="not empty"):
        train_bare_bundle(config, folder)
