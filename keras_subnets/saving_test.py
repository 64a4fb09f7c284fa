# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import pytest

import keras_subnets as ks

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    inputs = keras.Input((4,))
    model = ks.nest(keras.Model(inputs, keras.layers.Dense(2)(inputs)), [0.5, 0.0])
    path = tmp_path_factory.mktemp("saved") / "nested.keras"
    model.save(path)
    return path


def test_load_model_round_trips_and_names_our_classes(saved):
    model = ks.load_model(saved)
    assert isinstance(model, ks.SubnetModel)
    assert ks.saving.registered_names(saved) == ["SubnetDense", "SubnetModel"]


def test_missing_and_non_zip_files_are_told_apart(tmp_path):
    with pytest.raises(ValueError, match=r"nowhere.keras': no such file"):
        ks.load_model(tmp_path / "nowhere.keras")
    text = tmp_path / "x.keras"
    text.write_text("not a model\n")
    with pytest.raises(ValueError, match=r"x.keras' is not a .keras zip file"):
        ks.load_model(text)


def test_a_class_this_version_lacks_is_named(saved, tmp_path):
    changed = tmp_path / "future.keras"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                data = data.replace(b"SubnetDense", b"SubnetDenseV9")
            target.writestr(item, data)
    with pytest.raises(ValueError, match=r"class 'SubnetDenseV9', which the installed keras_subnets does not") as err:
        ks.load_model(changed)
    assert len(str(err.value)) < 300  # one line, not Keras' config dump


def test_loading_without_the_import_gets_a_one_line_hint(saved):
    # A fresh interpreter in which only Keras is imported when the load fails.
    code = (
        "import sys, keras\n"
        f"path = {str(saved)!r}\n"
        "try:\n"
        "    keras.saving.load_model(path)\n"
        "except Exception as error:\n"
        "    failure = error\n"
        "else:\n"
        "    sys.exit('loaded without keras_subnets')\n"
        "from keras_subnets.saving import explain_load_error\n"
        "print(len(str(failure)))\n"
        "print(explain_load_error(path, failure))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    size, hint = done.stdout.strip().splitlines()[-2:]
    assert int(size) > 1000  # what Keras alone says
    assert hint == (f"'{saved}' holds keras-subnets classes (SubnetDense, SubnetModel): run `import keras_subnets` "
                    "before keras.saving.load_model (or use keras_subnets.load_model)")


def test_other_load_errors_are_not_explained(tmp_path):
    assert ks.saving.explain_load_error(tmp_path / "x.keras", TypeError("Could not locate class 'Foo'")) is None
