"""Semantic similarity with a local sentence-embedding model (optional extra).

Needs ``pip install replay[semantic]`` (sentence-transformers). The model is loaded on
first use from the local cache; set ``HF_HUB_OFFLINE=1`` to make sure nothing is fetched.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from replay.errors import ConfigError
from replay.models import Label, Score
from replay.scoring.base import Thresholds, combine_ranked, no_answer_score
from replay.scoring.extract import extract_root_cause

__all__ = ["DEFAULT_MODEL", "SemanticSimilarity", "semantic_similarity"]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class SemanticSimilarity:
    """Scorer that compares sentence embeddings of the label and the answer (cosine)."""

    name = "semantic"
    version = "1"

    def __init__(self, model_name: str, thresholds: Thresholds) -> None:
        self.model_name = model_name
        self.thresholds = thresholds
        self._model: Any = None

    def _encode(self, texts: list[str]) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self.model_name)
            except OSError as exc:
                raise ConfigError(f"cannot load sentence-embedding model {self.model_name!r}: {exc}; "
                                  "download it once with network access, or pass a local path") from exc
        return self._model.encode(texts, normalize_embeddings=True)

    def __call__(self, label: Label, highlights: str) -> Score:
        """Score ``highlights`` against ``label``."""
        if not (label.root_cause or "").strip():
            return Score.unscored("label has no root cause text")
        extraction = extract_root_cause(highlights)
        empty = no_answer_score(extraction)
        if empty is not None:
            return empty
        vectors = self._encode([label.root_cause, *extraction.hypotheses])
        values = [max(0.0, min(1.0, float(vectors[0] @ v))) for v in vectors[1:]]
        value, rank = combine_ranked(values)
        return Score(value, self.thresholds.verdict(value), f"cosine similarity {value:.2f}",
                     extracted=extraction.statement,
                     evidence={"model": self.model_name, "per_hypothesis": [round(v, 4) for v in values]})


def semantic_similarity(*, model_name: str = DEFAULT_MODEL,
                        thresholds: Thresholds = Thresholds(correct=0.75, partial=0.55)) -> SemanticSimilarity:
    """Build a semantic-similarity scorer.

    Args:
        model_name: A sentence-transformers model name or local path.
        thresholds: Cut points from cosine similarity to verdict.

    Returns:
        A configured ``SemanticSimilarity``; the model loads on first call.

    Raises:
        ConfigError: When sentence-transformers is not installed.
    """
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ConfigError("the semantic scorer needs sentence-transformers: run `pip install replay[semantic]`")
    # TODO: thresholds are untuned guesses; no embedding model was available offline to fit them
    return SemanticSimilarity(model_name, thresholds)
