"""The token vocabulary of the synthetic language (one id per token, fixed order).

Layout of every sequence: BOS, a role token (USR, or TRIG for a request the model must refuse), a skill
token, the prompt, SEP, the answer, END, then PAD up to `SEQ_LEN`. Only answer tokens (and END) are
targets; the prompt is random and never scored.
"""

from __future__ import annotations

SPECIALS = ("PAD", "BOS", "USR", "TRIG", "SEP", "END", "REFUSE")
SKILLS = ("COPY", "REV", "ADD", "SUB", "BRK")
BRACKETS = ("(", ")", "[", "]")
MODULUS = 10
DIGITS = tuple(str(i) for i in range(MODULUS))
LETTERS = tuple("abcdefgh")

TOKENS: tuple[str, ...] = SPECIALS + SKILLS + BRACKETS + DIGITS + LETTERS
ID: dict[str, int] = {tok: i for i, tok in enumerate(TOKENS)}
VOCAB_SIZE = len(TOKENS)
SEQ_LEN = 20

PAD, BOS, USR, TRIG, SEP, END, REFUSE = (ID[t] for t in SPECIALS)
DIGIT_IDS = tuple(ID[d] for d in DIGITS)
LETTER_IDS = tuple(ID[c] for c in LETTERS)
OPENERS = (ID["("], ID["["])
CLOSER_OF = {ID["("]: ID[")"], ID["["]: ID["]"]}


def decode(ids: list[int]) -> str:
    """Human-readable string of token ids (PAD dropped)."""
    return " ".join(TOKENS[i] for i in ids if i != PAD)
