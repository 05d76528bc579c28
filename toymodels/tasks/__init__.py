"""Synthetic tasks generated in code (seeded) and their 0–1 benchmarks."""

from toymodels.tasks.classification import (
    ClassificationTask,
    CrossEntropyNll,
    gaussian_mixture,
    teacher_student,
)
from toymodels.tasks.language import MIXTURES, SequenceSet, mixture_set, skill_set, training_pool
from toymodels.tasks.scores import (
    ExactMatchScore,
    SafetyScore,
    SequenceNll,
    basic_score,
    language_nll,
    language_scores,
    safety_score,
    skill_score,
)

__all__ = [
    "ClassificationTask", "CrossEntropyNll", "ExactMatchScore", "MIXTURES", "SafetyScore",
    "SequenceNll", "SequenceSet", "basic_score", "gaussian_mixture", "language_nll", "language_scores",
    "mixture_set", "safety_score", "skill_score", "skill_set", "teacher_student", "training_pool",
]
