"""An ensemble of neural glossers: their output probabilities are averaged.

On the shared-task dev sets, averaging the model fine-tuned from the
pretrained one with one trained from scratch on the same data was more
accurate than the fine-tuned model alone in 9 of 12 (language, track) pairs
(``bench/results/neural-ensemble-results.md``); the two train side by side,
one per CPU core, in the time either takes.

Members may have different vocabularies (a fine-tuned model keeps its
pretraining characters, one from scratch has only its own). Each member reads
the input through its own vocabulary; its label probabilities are moved into
the first member's label space, by label string, and averaged there. The
first member (the *primary*) also supplies the memory of training glosses,
its thresholds and the lexicon settings, and, in unsegmented input, the
attention that places the morpheme boundaries.

A model directory holds ``config.json`` (``model_type`` ``neural-ensemble``
and the member folder names), one complete neural model directory per member
and the model card.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from ... import __version__
from ...errors import ModelError
from ...fileio import atomic_directory
from ...records import IGTRecord
from ..base import CARD_NAME, CONFIG_NAME
from .data import SEGMENTED, Batch, collate
from .glosser import NeuralGlosser
from .network import NEG_INF, WordDecoding

MEMBER_PREFIX = "member-"


class EnsembleGlosser(NeuralGlosser):
    model_type = "neural-ensemble"

    def __init__(self, members: list[NeuralGlosser], info: dict | None = None, weights: list[float] | None = None):
        if len(members) < 2:
            raise ModelError("an ensemble needs at least two member models")
        weights = weights or [1.0] * len(members)
        if len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0:
            raise ModelError(f"ensemble weights {weights} do not fit {len(members)} members (one non-negative weight each)")
        primary = members[0]
        super().__init__(primary.network, primary.vocabs, primary.info, primary.memory, primary.memory_thresholds,
                         primary.lexicon)
        self.members = members
        self.weights = [weight / sum(weights) for weight in weights]  # of each member's probabilities
        self.ensemble_info = info or {}
        # Per member: which of its labels the primary has and their indices
        # there, and the primary's label index -> its own (1, <unk>: it lacks it).
        self._shared_labels = [_shared_labels(member.vocabs.labels.itos, primary.vocabs.labels.stoi) for member in members]
        self._from_primary = [_label_map(primary.vocabs.labels.itos, member.vocabs.labels.stoi, 1) for member in members]

    @classmethod
    def combine(cls, models: list[NeuralGlosser], names: list[str] | None = None,
                weights: list[float] | None = None) -> EnsembleGlosser:
        """An ensemble of trained neural glossers (the first is the primary),
        weighted equally unless ``weights`` are given."""
        names = names or [model.info.get("name", f"model {i + 1}") for i, model in enumerate(models)]
        return cls(models, {"members": names}, weights)

    # -- glossing -----------------------------------------------------------------
    def _member_batches(self, batch: Batch, records: list[IGTRecord]) -> list[Batch]:
        """The batch as each member reads it (through its own vocabularies)."""
        return [batch] + [collate(member.encode(records)) for member in self.members[1:]]

    def _accumulate(self, total: torch.Tensor | None, member: int, probs: torch.Tensor) -> torch.Tensor:
        """Add a member's weighted (..., V_member + T) probabilities into the
        running total in the primary's (..., V_primary + T) label space; the
        primary comes first and starts the total (it may have all 8,000
        pretraining labels, so nothing of that size is copied or mapped)."""
        if total is None:
            return probs * self.weights[member]
        labels, primary_labels = len(self.members[member].vocabs.labels), len(self.vocabs.labels)
        own, theirs = self._shared_labels[member]
        total.index_add_(-1, theirs, probs.index_select(-1, own), alpha=self.weights[member])
        total[..., primary_labels:] += self.weights[member] * probs[..., labels:]  # copies: same translation words
        return total

    def decode(self, batch: Batch, records: list[IGTRecord]):
        if batch.mode != SEGMENTED:
            return self._decode_words(batch, records)
        total = None
        for index, (member, member_batch) in enumerate(zip(self.members, self._member_batches(batch, records))):
            logits = member.network(member_batch)
            logits[..., :2] = float("-inf")
            total = self._accumulate(total, index, logits.softmax(-1))
        return self._decode_segmented(total, batch, records)

    def _decode_needed_words(self, batch: Batch, records: list[IGTRecord], needed: torch.Tensor,
                             encoded: tuple[torch.Tensor, torch.Tensor]) -> WordDecoding:
        """Greedy decoding with every member in step: each step's label is the
        best by averaged probability, and every member reads it as the previous label."""
        words = [self.network._start_words(*encoded, batch, needed)]  # the primary has read the batch already
        words += [_start_words(member, member_batch, needed)
                  for member, member_batch in zip(self.members[1:], self._member_batches(batch, records)[1:])]
        steps, primary_labels = self.network.config.max_word_labels, len(self.vocabs.labels)
        labels = torch.full((words[0].total, steps), -1, dtype=torch.long)
        confidence = torch.zeros(words[0].total, steps)
        attention = torch.zeros(words[0].total, steps, words[0].chars.size(1))
        previous = [torch.zeros(len(words[0].rows), dtype=torch.long) for _ in self.members]
        for step in range(steps):
            if not len(words[0].rows):
                break
            total = None
            for index, (member, member_words) in enumerate(zip(self.members, words)):
                scores, looked = member.network._step(member_words, previous[index])
                scores[:, 1] = NEG_INF
                if step == 0:
                    scores[:, 0] = NEG_INF
                total = self._accumulate(total, index, scores.softmax(-1))
                if index == 0:
                    attention[words[0].rows, step, : looked.size(1)] = looked
            best, choice = total.max(-1)
            labels[words[0].rows, step] = choice
            confidence[words[0].rows, step] = best
            going = choice != 0
            choice = choice[going]
            for index, member_words in enumerate(words):
                # Copies and labels a member lacks enter as <unk>, as in its own decoding.
                own = self._from_primary[index][choice.clamp(max=primary_labels - 1)]
                previous[index] = own.where(choice < primary_labels, torch.ones_like(own))
                member_words.keep(going)
        return WordDecoding(labels, confidence, attention)

    # -- saving and loading ----------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike, dtype: torch.dtype = torch.float32) -> None:
        names = [f"{MEMBER_PREFIX}{index + 1}" for index in range(len(self.members))]
        config = {"model_type": self.model_type, "autogloss_version": __version__, "members": names,
                  "weights": self.weights, "info": self.ensemble_info}
        with atomic_directory(directory) as staging:
            for name, member in zip(names, self.members):
                member.save_pretrained(staging / name, dtype=dtype)
            (staging / CONFIG_NAME).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
            (staging / CARD_NAME).write_text(self._card(names), encoding="utf-8")

    def _card(self, names: list[str]) -> str:
        described = self.ensemble_info.get("members") or names
        lines = "\n".join(f"- `{name}/`: {description} ({member.info.get('trained_on', 'training data unspecified')}; "
                          f"initialised from {member.info.get('initialised_from', 'random')})"
                          for name, description, member in zip(names, described, self.members))
        return f"""---
library_name: autogloss
tags: [interlinear-glossed-text, glossing, morphology, low-resource, ensemble]
---
# autogloss neural glosser ensemble

{len(self.members)} autogloss neural glossers (autogloss {__version__}) whose output probabilities are averaged,
label by label (weights {", ".join(f"{weight:.2f}" for weight in self.weights)}); the first also supplies the memory of training glosses and, for unsegmented input, the
morpheme boundaries. Each member folder is a complete model with its own card (training data, licences,
dev scores).

{lines}

Load with `autogloss.models.load_glosser(path)` or `autogloss gloss --model PATH`.
"""

    @classmethod
    def _load(cls, directory: Path, config: dict) -> EnsembleGlosser:
        names = config.get("members")
        if not isinstance(names, list) or len(names) < 2:
            raise ModelError(f"{directory / CONFIG_NAME}: an ensemble config needs a 'members' list of two or more folders")
        members = []
        for name in names:
            member = NeuralGlosser.from_pretrained(directory / name)
            if not isinstance(member, NeuralGlosser) or isinstance(member, EnsembleGlosser):
                raise ModelError(f"{directory / name}: ensemble members must be neural models")
            members.append(member)
        return cls(members, config.get("info"), config.get("weights"))


def _start_words(member: NeuralGlosser, batch: Batch, needed: torch.Tensor):
    """A member's decoder start state for the ``needed`` words of its batch."""
    return member.network._start_words(*member.network.encode(batch), batch, needed)


def _shared_labels(itos: list[str], stoi: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The indices of the labels of one vocabulary (``itos``) that another
    (``stoi``) also has, and their indices there (0 and 1 map to themselves)."""
    target = _label_map(itos, stoi, -1)
    own = (target >= 0).nonzero(as_tuple=True)[0]
    return own, target[own]


def _label_map(itos: list[str], stoi: dict[str, int], missing: int) -> torch.Tensor:
    """Index in one label vocabulary -> index in another (``missing`` where it has no such label).
    Indices 0 (end/padding) and 1 (<unk>) map to themselves."""
    return torch.tensor([index if index < 2 else stoi.get(token, missing) for index, token in enumerate(itos)],
                        dtype=torch.long)
