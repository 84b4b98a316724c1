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

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ... import __version__
from ...errors import ModelError
from ...records import IGTRecord
from ..base import CONFIG_NAME, ModelConfig, card, read_config
from .data import SEGMENTED, Batch, collate
from .glosser import NeuralGlosser
from .network import WordDecoding, WordState, beam_words, greedy_words, mask_word_scores

MEMBER_PREFIX = "member-"


@dataclass
class EnsembleConfig(ModelConfig):
    """The ``config.json`` of an ensemble: its member folders, the weight of
    each member's probabilities, and how the members were described."""

    model_type = "neural-ensemble"
    members: list[str] = field(default_factory=list)
    weights: list[float] | None = None
    info: dict = field(default_factory=dict)

    @classmethod
    def read(cls, directory: Path, config: dict) -> EnsembleConfig:
        names = config.get("members")
        if not isinstance(names, list) or len(names) < 2:
            raise ModelError(f"{directory / CONFIG_NAME}: an ensemble config needs a 'members' list of two or more folders")
        return cls(names, config.get("weights"), config.get("info") or {})


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
        words = [self.network.start_words(batch, needed, encoded)]  # the primary has read the batch already
        words += [member.network.start_words(member_batch, needed)
                  for member, member_batch in zip(self.members[1:], self._member_batches(batch, records)[1:])]
        in_step = _InStep(self, words)
        steps = self.network.config.max_word_labels
        if self.beams > 1:
            return beam_words(words[0].total, words[0].rows, words[0].chars.size(1), steps, self.beams, in_step)
        return greedy_words(words[0], steps, in_step.choose, in_step.advance)

    # -- saving and loading ----------------------------------------------------------
    def member_names(self) -> list[str]:
        return [f"{MEMBER_PREFIX}{index + 1}" for index in range(len(self.members))]

    def config(self, dtype: torch.dtype = torch.float32) -> EnsembleConfig:
        return EnsembleConfig(self.member_names(), self.weights, self.ensemble_info)

    def _save_files(self, staging: Path, dtype: torch.dtype = torch.float32) -> None:
        for name, member in zip(self.member_names(), self.members):
            member.save_pretrained(staging / name, dtype=dtype)

    def model_card(self) -> str:
        names = self.member_names()
        described = self.ensemble_info.get("members") or names
        lines = "\n".join(f"- `{name}/`: {description} ({member.info.get('trained_on', 'training data unspecified')}; "
                          f"initialised from {member.info.get('initialised_from', 'random')})"
                          for name, description, member in zip(names, described, self.members))
        return card(["interlinear-glossed-text", "glossing", "morphology", "low-resource", "ensemble"], f"""# autogloss neural glosser ensemble

{len(self.members)} autogloss neural glossers (autogloss {__version__}) whose output probabilities are averaged,
label by label (weights {", ".join(f"{weight:.2f}" for weight in self.weights)}); the first also supplies the memory of training glosses and, for unsegmented input, the
morpheme boundaries. Each member folder is a complete model with its own card (training data, licences,
dev scores).

{lines}

Load with `autogloss.models.load_model(path)` or `autogloss gloss --model PATH`.
""")

    @classmethod
    def _load(cls, directory: Path, config: dict) -> EnsembleGlosser:
        settings = EnsembleConfig.read(directory, config)
        members = []
        for name in settings.members:
            if read_config(directory / name).get("model_type") != NeuralGlosser.model_type:
                raise ModelError(f"{directory / name}: ensemble members must be neural models")
            members.append(NeuralGlosser.from_pretrained(directory / name))
        return cls(members, settings.info, settings.weights)


class _InStep:
    """The members of an ensemble decoding words in step (see
    :func:`greedy_words` and :func:`beam_words`): each reads the label
    chosen by averaged probability, in its own label space."""

    def __init__(self, ensemble: EnsembleGlosser, words: list[WordState]):
        self.ensemble, self.words = ensemble, words
        self.previous = [torch.zeros(len(words[0].rows), dtype=torch.long) for _ in words]

    def _averaged(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Every member's next-output probabilities, averaged in the primary's
        output space, and where the primary looked (it places the boundaries)."""
        total, attention = None, None
        for index, (member, member_words) in enumerate(zip(self.ensemble.members, self.words)):
            scores, looked = member.network.step(member_words, self.previous[index])
            mask_word_scores(scores, step)
            total = self.ensemble._accumulate(total, index, scores.softmax(-1))
            if index == 0:
                attention = looked
        return total, attention

    def _read(self, choice: torch.Tensor) -> None:
        """Each member's previous label: the chosen output in its own label
        space (copies and labels a member lacks enter as <unk>, as in its own decoding)."""
        primary_labels = len(self.ensemble.vocabs.labels)
        for index in range(len(self.words)):
            own = self.ensemble._from_primary[index][choice.clamp(max=primary_labels - 1)]
            self.previous[index] = own.where(choice < primary_labels, torch.ones_like(own))

    def choose(self, step: int, _previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        total, attention = self._averaged(step)
        best, choice = total.max(-1)
        return choice, best, attention

    def advance(self, going: torch.Tensor, choice: torch.Tensor) -> torch.Tensor:
        self._read(choice)
        for member_words in self.words[1:]:
            member_words.keep(going)  # the primary's words are kept by the decoding loop
        return choice

    # -- as a beam search's stepper ------------------------------------------------------
    def log_probs(self, step: int, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._read(previous)
        total, attention = self._averaged(step)
        return mask_word_scores(total.clamp(min=1e-30).log(), step), attention

    def keep(self, rows: torch.Tensor) -> None:
        for member_words in self.words:
            member_words.keep(rows)


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
