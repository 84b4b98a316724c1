"""The neural glosser: vocabularies + network, decoding, saving and loading.

A model directory holds ``config.json`` (network settings, memory
thresholds, training summary), ``model.safetensors`` (the weights),
``vocab.json`` (characters, gloss labels, languages, memorised forms),
``memory.json`` (the most frequent training gloss of each morpheme and word,
and how each gloss label is spelt, which cuts plain words into morphemes)
and ``README.md`` (the model card).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from ... import __version__
from ...errors import ModelError
from ...records import MEMORY, NETWORK, UNKNOWN_GLOSS, GlossedRecord, IGTRecord, join_morphemes, split_keep_boundaries
from ..base import (CONFIG_NAME, Glosser, ModelConfig, TrainingData, card, confidence_line, read_json_part,
                    training_card_lines, write_json)
from ..lexicon import LexiconSettings, fill_unseen_stems
from ..majority import MajorityGlosser
from .data import (SEGMENTED, Batch, Example, Vocabularies, collate, encode, form_key, input_words, language_key,
                   translation_words, unit_forms, word_labels)
from .network import GlossingNetwork, NetworkConfig, WordDecoding
from .vocab import Vocabulary

WEIGHTS_NAME = "model.safetensors"
VOCAB_NAME = "vocab.json"
MEMORY_NAME = "memory.json"
INFERENCE_BATCH = 64


@dataclass
class NeuralConfig(ModelConfig):
    """The ``config.json`` of a neural model: the network's shape, when the
    memory of training glosses answers instead of the network, lexicon
    induction (None: off) and what is known of its training (``info``)."""

    model_type = "neural"
    torch_dtype: str = "float32"
    network: NetworkConfig | None = None
    memory_thresholds: dict = field(default_factory=dict)
    lexicon_induction: LexiconSettings | None = LexiconSettings()
    info: dict = field(default_factory=dict)

    @classmethod
    def read(cls, directory: Path, config: dict) -> NeuralConfig:
        try:
            network = NetworkConfig.from_dict(config["network"])
        except (KeyError, TypeError) as error:
            raise ModelError(f"{directory / CONFIG_NAME}: corrupt model config ({error})") from None
        # Models saved before lexicon induction existed get it with the default settings.
        lexicon = config.get("lexicon_induction", LexiconSettings().to_dict())
        try:
            lexicon = None if lexicon is None else LexiconSettings.from_dict(lexicon)
        except TypeError as error:
            raise ModelError(f"{directory / CONFIG_NAME}: corrupt lexicon_induction settings ({error})") from None
        return cls(config.get("torch_dtype", "float32"), network, config.get("memory_thresholds") or {}, lexicon,
                   config.get("info") or {})


def build_vocabularies(records: Iterable[IGTRecord], max_labels: int | None = None, min_label_count: int = 1,
                       max_forms: int | None = None) -> Vocabularies:
    chars: Counter = Counter()
    labels: Counter = Counter()
    languages: Counter = Counter()
    forms: Counter = Counter()
    for record in records:
        if record.has_glosses:
            forms.update(unit_forms(record))
        chars.update(" ".join(input_words(record)))
        chars.update(" ".join(translation_words(record.translation)))
        languages[language_key(record)] += 1
        mode = SEGMENTED if record.segmented_form else "words"
        for gloss in record.gloss_words:
            labels.update(word_labels(gloss, mode))
    return Vocabularies(Vocabulary.from_counts(chars), Vocabulary.from_counts(labels, min_label_count, max_labels),
                        Vocabulary.from_counts(languages), Vocabulary.from_counts(forms, max_size=max_forms))


class NeuralGlosser(Glosser):
    model_type = "neural"
    records_per_chunk = INFERENCE_BATCH * 8

    def __init__(self, network: GlossingNetwork, vocabs: Vocabularies, info: dict | None = None,
                 memory: MajorityGlosser | None = None, memory_thresholds: dict[str, float | None] | None = None,
                 lexicon: LexiconSettings | None = LexiconSettings()):
        self.network = network
        self.vocabs = vocabs
        self.info = info or {}
        # Seen morphemes and words with their most frequent gloss: used instead
        # of the network's answer where that was measured to be better on dev.
        self.memory = memory
        self.memory_thresholds = memory_thresholds or {}
        # Glosses of unseen stems induced from the translations of the sentences
        # glossed together (see models/lexicon.py); None switches it off.
        self.lexicon = lexicon
        # Label sequences searched per unsegmented word (1: greedy); see configure.
        self.beams = 1

    def remember(self, records: list[IGTRecord]) -> None:
        """Memorise the training data's most frequent gloss of each morpheme and word."""
        self.memory = MajorityGlosser.train(records)

    @classmethod
    def create(cls, records: list[IGTRecord], max_labels: int | None = None, max_forms: int | None = None,
               **network_options) -> NeuralGlosser:
        """A new, untrained glosser with vocabularies from ``records`` (the
        most frequent ``max_labels`` labels and ``max_forms`` forms)."""
        vocabs = build_vocabularies(records, max_labels, max_forms=max_forms)
        config = NetworkConfig(chars=len(vocabs.chars), labels=len(vocabs.labels), languages=len(vocabs.languages),
                               forms=len(vocabs.forms), **network_options)
        return cls(GlossingNetwork(config), vocabs)

    def extend_vocabularies(self, records: list[IGTRecord]) -> dict[str, int]:
        """Add the characters, labels and languages of new data (for fine-tuning);
        new rows are initialised small, old ones keep their trained values."""
        new = build_vocabularies(records)
        added = {}
        for name, layer_names in (("chars", ["char_embedding"]), ("languages", ["language_embedding"]),
                                  ("labels", ["output", "label_embedding"]), ("forms", ["form_embedding"])):
            vocabulary: Vocabulary = getattr(self.vocabs, name)
            before = len(vocabulary)
            for token in getattr(new, name).to_json():
                vocabulary.add(token)
            added[name] = len(vocabulary) - before
            if added[name]:
                for layer_name in layer_names:
                    _grow(self.network, layer_name, len(vocabulary))
        c = self.network.config
        c.chars, c.labels, c.languages = len(self.vocabs.chars), len(self.vocabs.labels), len(self.vocabs.languages)
        c.forms = len(self.vocabs.forms)
        return added

    def keep_only_labels(self, records: list[IGTRecord]) -> int:
        """Drop every gloss label that ``records`` do not use (in either
        setting) from the vocabulary and the output layer; returns how many
        labels are left. A model fine-tuned on one language never chose
        another language's labels on the shared-task dev sets, and the
        output layer over all 8,000 pretraining labels is most of the cost of glossing."""
        used = set()
        for record in records:
            mode = SEGMENTED if record.segmented_form else "words"
            for gloss in record.gloss_words:
                used.update(word_labels(gloss, mode))
        kept = [0, 1] + [i for i, token in enumerate(self.vocabs.labels.itos) if i > 1 and token in used]
        index = torch.tensor(kept)
        self.vocabs.labels = Vocabulary(self.vocabs.labels.itos[i] for i in kept[2:])
        _select_rows(self.network, "output", index)
        _select_rows(self.network, "label_embedding", index)
        self.network.config.labels = len(kept)
        return len(kept)

    # -- glossing -----------------------------------------------------------------
    def encode(self, records: list[IGTRecord], with_targets: bool = False) -> list[Example]:
        return [encode(record, self.vocabs, with_targets) for record in records]

    @torch.inference_mode()
    def _gloss_chunk(self, records: list[IGTRecord]) -> list[GlossedRecord]:
        self.network.eval()
        examples = self.encode(records)
        results: list[GlossedRecord | None] = [None] * len(records)
        for mode in (SEGMENTED, "words"):
            indices = sorted((i for i, e in enumerate(examples) if e.mode == mode), key=lambda i: len(examples[i].chars))
            for start in range(0, len(indices), INFERENCE_BATCH):
                chunk = indices[start:start + INFERENCE_BATCH]
                batch = collate([examples[i] for i in chunk])
                for i, output in zip(chunk, self.decode(batch, [records[i] for i in chunk])):
                    results[i] = output
        if self.lexicon is not None:
            return fill_unseen_stems(records, results, self.training_gloss, self.lexicon)  # type: ignore[arg-type]
        return results  # type: ignore[return-value]

    def training_gloss(self, table: str, form: str) -> str | None:
        """The memorised gloss of a morpheme (``table`` "morphemes") or word
        ("words") seen in training; without a memory, "" for the forms the
        network has an identity embedding for; None for unseen ones."""
        if self.memory is not None:
            found = self.memory.lookup(table, form)
            return None if found is None else found[0]
        return "" if form_key(form, SEGMENTED if table == "morphemes" else "words") in self.vocabs.forms else None

    def _label(self, index: int, translation: list[str]) -> str:
        labels = len(self.vocabs.labels)
        return self.vocabs.labels.token(index) if index < labels else translation[index - labels]

    def decode(self, batch: Batch, records: list[IGTRecord]) -> list[GlossedRecord]:
        if batch.mode == SEGMENTED:
            logits = self.network(batch)
            logits[..., :2] = float("-inf")  # never answer padding or <unk>
            return self._decode_segmented(logits.softmax(-1), batch, records)
        return self._decode_words(batch, records)

    def _remembered(self, table: str, key: str) -> tuple[str, float] | None:
        """The memorised gloss of a seen morpheme or word, if the memory is
        switched on for it and sure enough (see :func:`tune_memory`)."""
        threshold = self.memory_thresholds.get(table)
        if self.memory is None or threshold is None:
            return None
        found = self.memory.lookup(table, key)
        if found is None or found[1] < threshold or UNKNOWN_GLOSS in found[0]:
            return None
        return found

    def _decode_segmented(self, probs: torch.Tensor, batch: Batch, records: list[IGTRecord]) -> list[GlossedRecord]:
        best, chosen = probs.max(-1)
        outputs = []
        for b, record in enumerate(records):
            example = batch.examples[b]
            unit = 0
            gloss_words, confidences, sources = [], [], []
            for word in input_words(record):
                parts, boundaries = split_keep_boundaries(word)
                labels, word_confidence, word_sources = [], [], []
                for part in parts:
                    remembered = self._remembered("morphemes", part)
                    word_sources.append(NETWORK if remembered is None else MEMORY)
                    if remembered is None:
                        remembered = (self._label(int(chosen[b, unit]), example.translation), float(best[b, unit]))
                    labels.append(remembered[0])
                    word_confidence.append(round(remembered[1], 4))
                    unit += 1
                gloss_words.append(join_morphemes(labels, boundaries))
                confidences.append(word_confidence)
                sources.append(word_sources)
            outputs.append(GlossedRecord(record.replace(glosses=" ".join(gloss_words)), confidences, sources=sources))
        return outputs

    def _decode_words(self, batch: Batch, records: list[IGTRecord]) -> list[GlossedRecord]:
        # Words the memory answers are not decoded at all: most words of a
        # fine-tuned language's text are seen ones, and decoding is the cost.
        words = [word for record in records for word in record.transcription_words]
        remembered = [self._remembered("words", word) for word in words]
        needed = torch.tensor([found is None for found in remembered], dtype=torch.bool)
        encoded = self.network.encode(batch)
        decoding = self._decode_needed_words(batch, records, needed, encoded)
        outputs, word_index = [], 0
        for b, record in enumerate(records):
            example = batch.examples[b]
            gloss_words, segmented, confidences, sources = [], [], [], []
            for word in record.transcription_words:
                found = remembered[word_index]
                if found is not None:
                    gloss = found[0]
                    confidence = [round(found[1], 4)] * len(gloss.split("-"))
                    segmentation = self.memory.segment(word, gloss)
                else:
                    steps = decoding.labels[word_index].tolist()
                    labels = steps[: steps.index(0)] if 0 in steps else [s for s in steps if s > 0]
                    confidence = [round(c, 4) for c in decoding.confidence[word_index, : len(labels)].tolist()]
                    gloss = "-".join(self._label(i, example.translation) for i in labels)
                    looked = decoding.attention[word_index, : len(labels), : len(word)]
                    segmentation = self._cut_plain_word(word, gloss, looked)
                gloss_words.append(gloss)
                segmented.append(segmentation)
                confidences.append(confidence)
                sources.append([NETWORK if found is None else MEMORY] * len(confidence))
                word_index += 1
            output_record = record.replace(glosses=" ".join(gloss_words), segmentation=" ".join(segmented),
                                           segmentation_predicted=True)
            outputs.append(GlossedRecord(output_record, confidences, sources=sources))
        return outputs

    def _cut_plain_word(self, word: str, gloss: str, attention: torch.Tensor) -> str:
        """A plain word cut into one morpheme per label of its gloss. A model
        of one language (with a memory) cuts where its labels' spellings,
        learnt from the training glosses, put the boundaries (see
        :class:`~autogloss.models.segmentation.Segmenter`): on the shared-task
        dev sets about nine in ten words glossed with the right number of
        labels come out as the gold cuts them, against one in four where the
        decoder looked. A model without one (multilingual), or whose memory
        learnt no spellings (saved by an older autogloss), cuts where it looked."""
        if self.memory is not None and self.memory.segmenter.learnt:
            return self.memory.segment(word, gloss)
        return _segment(word, attention)

    def _decode_needed_words(self, batch: Batch, records: list[IGTRecord], needed: torch.Tensor,
                             encoded: tuple[torch.Tensor, torch.Tensor]) -> WordDecoding:
        """Label sequences of the ``needed`` words (W,) bool of a words-mode batch."""
        return self.network.decode_words(batch, needed, encoded, beams=self.beams)

    # -- saving and loading ----------------------------------------------------------
    def configure(self, *, beams: int | None = None, lexicon: bool = True) -> None:
        """``beams``: search that many label sequences per unsegmented word
        (1 or None: greedy); ``lexicon=False`` switches lexicon induction off."""
        if beams:
            self.beams = beams
        if not lexicon:
            self.lexicon = None

    def config(self, dtype: torch.dtype = torch.float32) -> NeuralConfig:
        return NeuralConfig(str(dtype).removeprefix("torch."), self.network.config, self.memory_thresholds,
                            self.lexicon, self.info)

    def save_pretrained(self, directory: str | os.PathLike, dtype: torch.dtype = torch.float32) -> None:
        """Save in the Hugging Face layout. ``dtype=torch.float16`` halves the
        weights file (for shipping); loading always computes in float32."""
        super().save_pretrained(directory, dtype=dtype)

    def _save_files(self, staging: Path, dtype: torch.dtype = torch.float32) -> None:
        write_json(staging / VOCAB_NAME, self.vocabs.to_json(), indent=None)
        state = {name: tensor.detach().to(dtype).contiguous() if tensor.is_floating_point() else tensor.detach().contiguous()
                 for name, tensor in self.network.state_dict().items()}
        # as bytes through open(), so the file gets the mode the umask allows (save_file makes it 0600)
        (staging / WEIGHTS_NAME).write_bytes(save(state, metadata={"format": "pt", "autogloss": __version__}))
        if self.memory is not None:
            write_json(staging / MEMORY_NAME, self.memory.to_json(), indent=None)

    def model_card(self) -> str:
        return model_card(self)

    def training_data(self) -> TrainingData:
        """What the config records of the model's training (``info["training_data"]``)."""
        recorded = self.info.get("training_data")
        return TrainingData.from_dict(recorded) if isinstance(recorded, dict) else TrainingData()

    @classmethod
    def _load(cls, directory: Path, config: dict) -> NeuralGlosser:
        settings = NeuralConfig.read(directory, config)
        vocabs = Vocabularies.from_json(read_json_part(directory, VOCAB_NAME))
        weights = directory / WEIGHTS_NAME
        if not weights.is_file():
            raise ModelError(f"{directory}: incomplete model directory (no {WEIGHTS_NAME})")
        try:
            state = load_file(str(weights))
        except (SafetensorError, OSError, ValueError) as error:
            raise ModelError(f"{weights}: corrupt weights ({error})") from None
        network = GlossingNetwork(settings.network)
        try:
            network.load_state_dict(state)
        except RuntimeError as error:
            detail = " ".join(line.strip() for line in str(error).splitlines()[1:2])
            raise ModelError(f"{weights}: weights do not match config.json ({detail})") from None
        network.eval()
        memory = None
        if (directory / MEMORY_NAME).is_file():
            memory = MajorityGlosser.from_tables(read_json_part(directory, MEMORY_NAME))
        return cls(network, vocabs, settings.info, memory, settings.memory_thresholds, settings.lexicon_induction)


def _segment(word: str, attention: torch.Tensor) -> str:
    """Cut a word into one piece per emitted label, where the labels looked.

    Each label's attention gives the centre of its morpheme; a boundary goes
    halfway between neighbouring centres, kept in order and inside the word,
    so the segmentation has as many morphemes as the gloss whenever the word
    has enough characters. Hyphens the word already has are boundaries: the
    labels are shared out among its hyphen-separated parts first (see
    :func:`_share_labels`), then each part is cut for its own labels.
    """
    labels = attention.size(0)
    if labels < 2 or len(word) < 2:
        return word
    centres = _centres(attention)
    parts = word.split("-")
    if len(parts) == 1:
        return _cut(word, centres)
    spans, start = [], 0
    for part in parts:
        spans.append((start, start + len(part)))
        start += len(part) + 1
    shares = _share_labels(centres, spans)
    if shares is None:  # more hyphen-separated parts than labels: leave the word as written
        return word
    return "-".join(_cut(part, [centres[k] - begin for k in share]) if len(share) > 1 and part else part
                    for part, (begin, _), share in zip(parts, spans, shares))


def _centres(attention: torch.Tensor) -> list[float]:
    """Where each label looked: the attention-weighted mean character position."""
    positions = torch.arange(attention.size(1), dtype=attention.dtype)
    weights = attention / attention.sum(-1, keepdim=True).clamp(min=1e-9)
    return (weights * positions).sum(-1).tolist()


def _cut(word: str, centres: list[float]) -> str:
    """Cut a word without hyphens into one piece per label, halfway between the labels' centres."""
    labels = len(centres)
    cuts: list[int] = []
    for k in range(1, min(labels, len(word))):
        cut = int(round((centres[k - 1] + centres[k]) / 2 + 0.5))
        low = cuts[-1] + 1 if cuts else 1
        high = len(word) - (min(labels, len(word)) - k)  # leave a character for every later piece
        cuts.append(min(max(cut, low), high))
    bounds = [0, *cuts, len(word)]
    return "-".join(word[start:end] for start, end in zip(bounds, bounds[1:]))


def _share_labels(centres: list[float], spans: list[tuple[int, int]]) -> list[list[int]] | None:
    """Labels (in order) for each part (in order), every part at least one,
    each label as close to its part as possible (the least total distance
    between label centres and parts); None when there are more parts than labels."""
    labels, parts = len(centres), len(spans)
    if parts > labels:
        return None

    def distance(k: int, j: int) -> float:
        begin, end = spans[j]
        return max(begin - centres[k], centres[k] - (end - 1), 0.0)

    best = [[float("inf")] * parts for _ in range(labels)]  # label k in part j, labels before placed
    best[0][0] = distance(0, 0)
    for k in range(1, labels):
        for j in range(min(k + 1, parts)):
            best[k][j] = distance(k, j) + min(best[k - 1][j], best[k - 1][j - 1] if j else float("inf"))
    shares: list[list[int]] = [[] for _ in range(parts)]
    j = parts - 1
    for k in range(labels - 1, -1, -1):
        shares[j].insert(0, k)
        if k and j and best[k - 1][j - 1] <= best[k - 1][j]:
            j -= 1
    return shares


def _select_rows(network: GlossingNetwork, name: str, rows: torch.Tensor) -> None:
    """Keep only ``rows`` of an embedding or output layer, in that order."""
    layer = getattr(network, name)
    if isinstance(layer, torch.nn.Embedding):
        smaller = torch.nn.Embedding(len(rows), layer.embedding_dim, padding_idx=layer.padding_idx)
    else:
        smaller = torch.nn.Linear(layer.in_features, len(rows))
        smaller.bias.data = layer.bias.data[rows].clone()
    smaller.weight.data = layer.weight.data[rows].clone()
    setattr(network, name, smaller)


def _grow(network: GlossingNetwork, name: str, size: int) -> None:
    """Enlarge an embedding or output layer to ``size`` rows, keeping old rows."""
    layer = getattr(network, name)
    old = layer.weight.data
    if isinstance(layer, torch.nn.Embedding):
        grown = torch.nn.Embedding(size, old.size(1), padding_idx=layer.padding_idx)
    else:
        grown = torch.nn.Linear(layer.in_features, size)
        grown.bias.data[: old.size(0)] = layer.bias.data
        grown.bias.data[old.size(0):] = layer.bias.data.min()
    grown.weight.data.normal_(0, 0.02)
    grown.weight.data[: old.size(0)] = old
    setattr(network, name, grown)


def _budget_line(budget: dict | None) -> str:
    """The training budget as the card states it: epochs and minutes used, of those allowed."""
    if not budget:
        return "not recorded"
    limit = budget.get("max_minutes")
    return (f"{budget['epochs']} epochs of at most {budget['max_epochs']}, {budget['minutes']:.1f} minutes"
            + (f" of at most {limit:g}" if limit is not None else " (no time limit)")
            + (f"; the weights of epoch {budget['selected_epoch']} kept (the best on the sentences it was scored on)"
               if budget.get("selected_epoch") is not None else ""))


def _cut_description(glosser: NeuralGlosser) -> str:
    """Where the model cuts a plain word into morphemes, as its card says it."""
    if glosser.memory is not None and glosser.memory.segmenter.learnt:
        return "where the labels' spellings, learnt from the training glosses, put the boundaries (a guess, marked so)"
    return "where the decoder attended (a guess, marked so)"


def _memory_description(glosser: NeuralGlosser) -> str:
    """When the memory of training glosses answers instead of the network, as the card says it."""
    if glosser.memory is None:
        return "none: the network answers every morpheme"
    parts = []
    for table, name in (("morphemes", "given morphemes"), ("words", "plain words")):
        threshold = glosser.memory_thresholds.get(table)
        if threshold is None:
            parts.append(f"{name}: off")
            continue
        parts.append(f"{name}: " + ("every form seen in training" if threshold == 0 else
                                    "the forms glossed one way throughout training" if threshold >= 1 else
                                    f"the forms whose most frequent training gloss had {threshold:.0%} of their "
                                    f"occurrences or more"))
    return "; ".join(parts)


def model_card(glosser: NeuralGlosser) -> str:
    """The card of a neural model: what it is, what it was trained on, its dev scores."""
    info = glosser.info
    c = glosser.network.config
    parameters = sum(p.numel() for p in glosser.network.parameters())
    scores = info.get("dev_scores") or {}
    score_lines = "\n".join(f"- {k}: {v:.2f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in scores.items())
    return card(["interlinear-glossed-text", "glossing", "morphology", "low-resource"], f"""# autogloss neural glosser

A character-level BiLSTM glosser (autogloss {__version__}, {parameters:,} parameters). Segmented input:
each given morpheme is classified; unsegmented input: a small decoder emits each word's gloss labels,
and the word is cut into one morpheme per label {_cut_description(glosser)}.
Both can copy a translation word as a gloss.

- Training data: {info.get("trained_on", "unspecified")}
{training_card_lines(glosser.training_data())}
- Licences of the training data: {info.get("licenses", "see the data sources")}
- Initialised from: {info.get("initialised_from", "random (trained from scratch)")}
- Gloss labels: {len(glosser.vocabs.labels) - 2:,}; characters: {len(glosser.vocabs.chars) - 2:,}; language embeddings: {len(glosser.vocabs.languages) - 2:,}
- Network: char {c.char_dim}, language {c.language_dim}, hidden {c.hidden} x {c.layers} layers
- Training: {info.get("training", "unspecified")}
- Budget used: {_budget_line(info.get("budget"))}
- Memory of training glosses (answers instead of the network): {_memory_description(glosser)}
- Unseen stems: {"glossed with the translation lemma that recurs with them across the sentences glossed together (" + ", ".join(f"{k} {v}" for k, v in glosser.lexicon.to_dict().items()) + ")" if glosser.lexicon else "left to the network"}
- Made with: {f"`{info['command']}`" if info.get("command") else "autogloss " + ("fine-tuning" if glosser.training_data().base else "training")}
- Confidence: {confidence_line(glosser)}

## Dev scores (official SIGMORPHON 2023 scorer, percent)

Scored on: {info.get("dev_data", "the dev data given to training")}.

{score_lines or "not recorded"}

Load with `autogloss.models.load_model(path)` or `autogloss gloss --model PATH`.
""")
