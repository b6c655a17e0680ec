"""Categorical levels get one text whatever dtype brought them: read_csv makes a number-coded column with a blank
float (3.0), without a blank int (3), and the service's JSON gives 3. Training and scoring must agree on "3"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.factories import flat_frame, write_flat_dataset
from vroegsignaal.errors import DataValidationError
from vroegsignaal.scoring.preprocess import MSG_NOT_NUMERIC, FeaturePreprocessor, category_text, category_texts
from vroegsignaal.training.data import load_dataset


def fit_one(values: list, *, dtype: str | None = None) -> FeaturePreprocessor:
    return FeaturePreprocessor.fit(
        pd.DataFrame({"code": pd.Series(values, dtype=dtype)}), feature_names=["code"], categorical=["code"]
    )


def encode_one(preprocessor: FeaturePreprocessor, values: list, *, dtype: str | None = None):
    return preprocessor.encode(pd.DataFrame({"code": pd.Series(values, dtype=dtype)}))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (3.0, "3"),
        (-0.0, "0"),
        (np.int64(3), "3"),
        (np.float32(3.0), "3"),
        (np.float64(7.0), "7"),
        ("3", "3"),
        ("3.0", "3.0"),
        ("north", "north"),
        (2.5, "2.5"),
        (True, "True"),
        (np.bool_(False), "False"),
        (None, None),
        (np.nan, None),
        (np.float32("nan"), None),
        (pd.NA, None),
    ],
)
def test_category_text_is_canonical_for_each_value_type(value, text):
    assert category_text(value) == text


def test_levels_fitted_on_a_float_column_with_a_blank_are_the_whole_numbers():
    preprocessor = fit_one([3.0, np.nan, 7.0, 3.0])
    assert preprocessor.categorical_levels["code"] == ("3", "7")


def test_ints_strings_and_floats_find_the_level_a_float_column_with_a_blank_was_fitted_on():
    preprocessor = fit_one([3.0, np.nan, 7.0])
    for batch, dtype in (([3, 7], "int64"), (["3", "7"], "string"), ([3.0, 7.0], "float64"), ([3, "7"], "object")):
        encoded = encode_one(preprocessor, batch, dtype=dtype)
        assert encoded.matrix[:, 0].tolist() == [0.0, 1.0], dtype
        assert not encoded.unseen.any(), dtype
    records = preprocessor.encode_records([{"code": 3}, {"code": 7.0}, {"code": "3"}, {"code": np.int64(7)}])
    assert records.matrix[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert not records.unseen.any()


def test_a_blank_in_the_batch_does_not_hide_the_levels_fitted_on_ints():
    preprocessor = fit_one([3, 7, 3], dtype="int64")
    encoded = encode_one(preprocessor, [7.0, np.nan, 3.0, 9.0])
    np.testing.assert_array_equal(encoded.matrix[:, 0], [1.0, np.nan, 0.0, np.nan])
    assert encoded.unseen[:, 0].tolist() == [False, False, False, True]  # the blank is missing, 9 is unseen


def test_out_of_distribution_is_not_raised_for_a_known_code_in_another_dtype():
    preprocessor = fit_one([3.0, np.nan, 7.0])
    for encoded in (encode_one(preprocessor, [3, 7], dtype="int64"), preprocessor.encode_records([{"code": 3}])):
        assert not preprocessor.out_of_distribution(encoded).any()


@pytest.mark.parametrize(
    "value",
    [3, 3.0, np.int64(7), np.float32(7.0), "3", "3.0", 2.5, True, np.bool_(False), None, np.nan, pd.NA, "north"],
    ids=repr,
)
def test_encode_records_matches_encode_on_a_frame(value):
    preprocessor = fit_one([3, 7, 2.5, True, "north", None], dtype="object")
    from_frame = encode_one(preprocessor, [value], dtype="object")
    from_records = preprocessor.encode_records([{"code": value}])
    np.testing.assert_array_equal(from_frame.matrix, from_records.matrix)
    np.testing.assert_array_equal(from_frame.unseen, from_records.unseen)


def test_encode_records_with_json_ints_matches_encode_on_a_float_frame_with_a_blank():
    preprocessor = fit_one([1, 3, 7], dtype="int64")
    from_frame = encode_one(preprocessor, [3.0, 7.0, np.nan, 5.0])
    from_records = preprocessor.encode_records([{"code": 3}, {"code": 7}, {"code": None}, {"code": 5}])
    np.testing.assert_array_equal(from_frame.matrix, from_records.matrix)
    np.testing.assert_array_equal(from_frame.unseen, from_records.unseen)
    assert from_records.unseen[:, 0].tolist() == [False, False, False, True]


def test_text_categories_keep_their_levels_and_codes():
    preprocessor = fit_one(["north", "south", None, "east", "3.0"], dtype="string")
    assert preprocessor.categorical_levels["code"] == ("3.0", "east", "north", "south")
    encoded = encode_one(preprocessor, ["south", "west", None, "3.0", "east"], dtype="string")
    np.testing.assert_array_equal(encoded.matrix[:, 0], [3.0, np.nan, np.nan, 0.0, 1.0])
    assert encoded.unseen[:, 0].tolist() == [False, True, False, False, False]
    records = preprocessor.encode_records([{"code": "south"}, {"code": "west"}, {"code": None}])
    np.testing.assert_array_equal(records.matrix[:, 0], [3.0, np.nan, np.nan])
    assert records.unseen[:, 0].tolist() == [False, True, False]


def test_boolean_categories_keep_their_true_false_levels():
    preprocessor = fit_one([True, False, True], dtype="bool")
    assert preprocessor.categorical_levels["code"] == ("False", "True")
    assert encode_one(preprocessor, [True, None], dtype="boolean").matrix[:, 0].tolist()[:1] == [1.0]
    assert preprocessor.encode_records([{"code": False}]).matrix.tolist() == [[0.0]]


def test_a_bundle_that_stored_float_text_levels_still_matches_every_dtype():
    stored = {"feature_names": ["code"], "categorical_levels": {"code": ["3.0", "7.0"]}, "numeric_ranges": {}}
    preprocessor = FeaturePreprocessor.from_dict(stored)
    assert preprocessor.to_dict() == stored  # levels and their codes are kept exactly as written
    encoded = encode_one(preprocessor, [3, 7.0, "3.0", "7", None], dtype="object")
    np.testing.assert_array_equal(encoded.matrix[:, 0], [0.0, 1.0, 0.0, 1.0, np.nan])
    assert not encoded.unseen.any()
    assert preprocessor.encode_records([{"code": 7}, {"code": "3.0"}]).matrix[:, 0].tolist() == [1.0, 0.0]


def test_category_texts_keeps_rows_and_gives_missing_for_blanks():
    column = pd.Series([3.0, np.nan, 7.0], index=[10, 11, 12], name="code")
    texts = category_texts(column)
    assert texts.dtype == "string" and texts.name == "code" and texts.index.tolist() == [10, 11, 12]
    assert texts.tolist()[::2] == ["3", "7"] and texts.isna().tolist() == [False, True, False]


def test_a_csv_code_column_with_a_blank_trains_the_levels_a_blank_free_batch_scores(tmp_path):
    frame = flat_frame(300, seed=5)
    frame["tenure_code"] = np.random.default_rng(5).integers(1, 4, len(frame)).astype(float)
    frame.loc[7, "tenure_code"] = np.nan  # read_csv makes the column float: the levels used to be "1.0", "2.0"...
    dataset = load_dataset(write_flat_dataset(tmp_path, frame, categorical=["region", "tenure_code"]))
    preprocessor = FeaturePreprocessor.fit(
        dataset.frame, feature_names=dataset.feature_names, categorical=dataset.categorical
    )
    assert preprocessor.categorical_levels["tenure_code"] == ("1", "2", "3")
    assert preprocessor.categorical_levels["region"] == ("east", "north", "south")
    batch = dataset.frame.dropna().assign(tenure_code=lambda f: f["tenure_code"].astype(int))
    assert not preprocessor.encode(batch).unseen.any()


def test_encode_records_matches_encode_on_rows_of_numbers_levels_and_blanks():
    training = pd.DataFrame({"amount": [0.0, 10.5, np.nan], "count": [0, 4, 9], "code": ["north", "south", None]})
    preprocessor = FeaturePreprocessor.fit(training, feature_names=["amount", "count", "code"], categorical=["code"])
    records = [
        {"amount": 3, "count": 2.0, "code": "south"},
        {"amount": None, "count": True, "code": "east"},
        {"amount": float("nan"), "count": np.int64(7), "code": None},
        {"amount": np.float32(2.5), "count": "5", "code": "north"},
        {"amount": pd.NA, "count": -1, "code": "west"},
    ]
    from_frame = preprocessor.encode(pd.DataFrame(records, dtype="object"))
    from_records = preprocessor.encode_records(records)
    np.testing.assert_array_equal(from_frame.matrix, from_records.matrix)
    np.testing.assert_array_equal(from_frame.unseen, from_records.unseen)
    assert from_records.unseen.tolist() == [[False, False, False], [False, False, True]] + [[False] * 3] + [
        [False, False, False], [False, False, True]
    ]


def test_encode_records_names_the_row_of_a_value_that_is_not_a_number():
    preprocessor = FeaturePreprocessor.fit(pd.DataFrame({"amount": [1.0, 2.0]}), feature_names=["amount"], categorical=[])
    with pytest.raises(DataValidationError, match="must be numeric") as raised:
        preprocessor.encode_records([{"amount": 1}, {"amount": "a lot"}])
    (failure,) = raised.value.failures
    assert (failure.check, failure.rows, failure.examples) == (MSG_NOT_NUMERIC, (1,), ("<hidden: 5 characters>",))  # text may be a name: never repeated
    assert preprocessor.encode_records([]).matrix.shape == (0, 1)
