"""Contract of the embedder port: deterministic unit vectors that reflect textual similarity."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from application.ports.embedder import Embedder


def cosine(embedder: Embedder, a: str, b: str) -> float:
    return float(embedder.embed(a) @ embedder.embed(b))


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=300))
def test_every_text_gives_a_finite_unit_vector_of_the_dimension(
    embedder: Embedder, text: str
) -> None:
    vector = embedder.embed(text)
    assert vector.shape == (embedder.dim,)
    assert vector.dtype == np.float64
    assert np.all(np.isfinite(vector))
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-9


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.text(max_size=80), max_size=12))
def test_embed_many_rows_equal_embed(embedder: Embedder, texts: list[str]) -> None:
    matrix = embedder.embed_many(texts)
    assert matrix.shape == (len(texts), embedder.dim)
    for row, text in zip(matrix, texts, strict=True):
        np.testing.assert_allclose(row, embedder.embed(text), rtol=0, atol=1e-9)


def test_the_same_text_gives_the_same_vector(embedder: Embedder) -> None:
    text = "Consolidate the working memory of organ cognitive-1"
    np.testing.assert_array_equal(embedder.embed(text), embedder.embed(text))


def test_the_empty_text_gives_a_fixed_unit_vector(embedder: Embedder) -> None:
    first, second = embedder.embed(""), embedder.embed_many(["", "x"])[0]
    np.testing.assert_array_equal(first, second)
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-9


def test_different_texts_give_different_vectors(embedder: Embedder) -> None:
    vectors = embedder.embed_many(["alpha", "beta", "alpha beta", "Alpha beta gamma"])
    for i in range(len(vectors)):
        for j in range(i + 1, len(vectors)):
            assert not np.allclose(vectors[i], vectors[j])


def test_similar_texts_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    cases = [
        (
            "the cat sat on the mat",
            "a cat was sitting on the mat",
            "quarterly revenue forecast for the energy sector",
        ),
        (
            "restart the payment service after the database failover",
            "payment service restart following a database failover",
            "a recipe for sourdough bread with rye flour",
        ),
        (
            "knowledge lookup of fact 42 in organ memory",
            "look up fact 42 in the organ's memory",
            "monitoring cpu temperature of the cluster nodes",
        ),
    ]
    for anchor, similar, unrelated in cases:
        assert cosine(embedder, anchor, similar) > cosine(embedder, anchor, unrelated) + 0.1


def test_word_variants_are_closer_than_unrelated_words(embedder: Embedder) -> None:
    for word, variant, unrelated in [
        ("consolidate", "consolidation", "banana"),
        ("incident", "incidents", "weather"),
        ("optimizer", "optimization", "flashbulb"),
    ]:
        assert cosine(embedder, word, variant) > cosine(embedder, word, unrelated) + 0.1


def test_an_empty_batch_is_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed_many([]).shape == (0, embedder.dim)
