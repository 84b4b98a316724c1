"""The glossing network: a character BiLSTM encoder with two output heads.

- The encoder reads the characters of the sentence (with the language as an
  embedding on every character) and, separately, the translation.
- Segmented input: each given morpheme is pooled from its characters,
  contextualised by a morpheme-level BiLSTM, and classified.
- Unsegmented input: a small attentive decoder emits each word's gloss
  labels one by one (then an end marker), reading the word's characters;
  where it attends places the morpheme boundaries when the model has no
  memory of one language's label spellings (see :mod:`autogloss.models.segmentation`).
- Both heads score the same label set (shared output layer, so the two
  settings teach each other) plus "copy translation word j", so lexical
  glosses never seen in training are still reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from ..base import Settings
from .data import SEGMENTED, Batch

NEG_INF = -1e9


@dataclass
class NetworkConfig(Settings):
    chars: int
    labels: int
    languages: int
    forms: int
    char_dim: int = 64
    form_dim: int = 128
    form_dropout: float = 0.3
    language_dim: int = 16
    hidden: int = 192
    translation_hidden: int = 96
    layers: int = 2
    label_dim: int = 64
    max_word_labels: int = 12
    dropout: float = 0.25


def _reverse_within_length(inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of a padded batch within its own length (padding stays at the end)."""
    steps = torch.arange(inputs.size(1), device=inputs.device)[None, :]
    index = (lengths[:, None] - 1 - steps).clamp(min=0)
    index = torch.where(steps < lengths[:, None], index, steps)
    return inputs.gather(1, index[..., None].expand_as(inputs))


class BiLSTM(nn.Module):
    """A bidirectional LSTM over padded batches.

    The backward direction runs a forward LSTM over each sequence reversed
    within its length, so padding never leaks into real positions, and no
    packed sequences are needed: on CPU, packed LSTMs step through time one
    slice at a time and their backward pass is many times slower.
    """

    def __init__(self, input_size: int, hidden: int, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.forward_layers = nn.ModuleList()
        self.backward_layers = nn.ModuleList()
        for layer in range(layers):
            size = input_size if layer == 0 else 2 * hidden
            self.forward_layers.append(nn.LSTM(size, hidden, batch_first=True))
            self.backward_layers.append(nn.LSTM(size, hidden, batch_first=True))
        self.dropout = nn.Dropout(dropout)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = lengths.clamp(min=1)
        mask = (torch.arange(inputs.size(1), device=inputs.device)[None, :] < lengths[:, None])[..., None]
        for index, (forward_lstm, backward_lstm) in enumerate(zip(self.forward_layers, self.backward_layers)):
            if index:
                inputs = self.dropout(inputs)
            ahead, _ = forward_lstm(inputs)
            behind, _ = backward_lstm(_reverse_within_length(inputs, lengths))
            inputs = torch.cat([ahead, _reverse_within_length(behind, lengths)], dim=-1) * mask
        return inputs


def _span_weights(length: int, spans: torch.Tensor) -> torch.Tensor:
    """(B, U, L) averaging weights over the characters of each span (B, U, 2)."""
    positions = torch.arange(length, device=spans.device)
    inside = (positions >= spans[..., 0:1]) & (positions < spans[..., 1:2])
    return inside.float() / inside.sum(-1, keepdim=True).clamp(min=1)


def _mean_spans(states: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
    """Mean state of each span: (B, L, D), (B, U, 2) -> (B, U, D)."""
    return _span_weights(states.size(1), spans) @ states


def _pool_spans(states: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
    """Mean, first and last state of each span: (B, L, D), (B, U, 2) -> (B, U, 3D)."""
    length = states.size(1)
    start, end = spans[..., 0:1], spans[..., 1:2]                      # (B, U, 1)
    first = states.gather(1, start.clamp(max=length - 1).expand(-1, -1, states.size(2)))
    last = states.gather(1, (end - 1).clamp(min=0, max=length - 1).expand(-1, -1, states.size(2)))
    return torch.cat([_mean_spans(states, spans), first, last], dim=-1)


class GlossingNetwork(nn.Module):
    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        c = config
        width = 2 * c.hidden
        self.char_embedding = nn.Embedding(c.chars, c.char_dim, padding_idx=0)
        self.language_embedding = nn.Embedding(c.languages, c.language_dim)
        self.form_embedding = nn.Embedding(c.forms, c.form_dim, padding_idx=0)
        self.encoder = BiLSTM(c.char_dim + c.language_dim, c.hidden, c.layers, c.dropout)
        self.translation_encoder = BiLSTM(c.char_dim, c.translation_hidden)
        translation_width = 2 * c.translation_hidden
        self.morpheme_projection = nn.Linear(3 * width + c.form_dim, width)
        self.morpheme_context = BiLSTM(width, c.hidden)
        self.label_embedding = nn.Embedding(c.labels, c.label_dim)
        self.decoder_start = nn.Linear(3 * width + c.form_dim, width)
        self.decoder = nn.GRUCell(c.label_dim + width, width)
        self.decoder_attention = nn.Linear(width, width)
        self.decoder_output = nn.Linear(2 * width, width)
        self.attention_query = nn.Linear(width, translation_width)
        self.features = nn.Linear(width + translation_width, width)
        self.output = nn.Linear(width, c.labels)
        self.copy_query = nn.Linear(width, translation_width)
        self.dropout = nn.Dropout(c.dropout)

    # -- encoders ---------------------------------------------------------------
    def _encode_translation(self, batch: Batch) -> torch.Tensor:
        """(B, T, Dt) one vector per translation word."""
        embedded = self.dropout(self.char_embedding(batch.translation_chars))
        states = self.translation_encoder(embedded, batch.translation_lengths)
        return _mean_spans(states, batch.translation_spans)

    def _encode_chars(self, batch: Batch) -> torch.Tensor:
        embedded = self.char_embedding(batch.chars)
        language = self.language_embedding(batch.languages)[:, None, :].expand(-1, embedded.size(1), -1)
        inputs = self.dropout(torch.cat([embedded, language], dim=-1))
        return self.dropout(self.encoder(inputs, batch.lengths))

    def _scores(self, units: torch.Tensor, translation: torch.Tensor, translation_mask: torch.Tensor) -> torch.Tensor:
        """Label and copy logits for unit vectors (N, K, D) against their sentence's translation (N, T, Dt)."""
        attention = torch.einsum("nkd,ntd->nkt", self.attention_query(units), translation)
        attention = attention.masked_fill(~translation_mask[:, None, :], NEG_INF)
        weights = torch.softmax(attention, dim=-1) * translation_mask[:, None, :].any(-1, keepdim=True)
        context = weights @ translation
        features = self.dropout(torch.tanh(self.features(torch.cat([units, context], dim=-1))))
        copy = torch.einsum("nkd,ntd->nkt", self.copy_query(features), translation)
        copy = copy.masked_fill(~translation_mask[:, None, :], NEG_INF)
        return torch.cat([self.output(features), copy], dim=-1)

    def _forms(self, batch: Batch) -> torch.Tensor:
        """(B, U, F) embeddings of the units' identities; in training some are
        hidden (set to unknown) so the character path learns to generalise."""
        forms = batch.unit_forms
        if self.training and self.config.form_dropout > 0:
            hidden = torch.rand(forms.shape, device=forms.device) < self.config.form_dropout
            forms = forms.masked_fill(hidden & (forms > 0), 1)
        return self.form_embedding(forms)

    # -- heads -------------------------------------------------------------------
    def forward(self, batch: Batch, teacher: torch.Tensor | None = None) -> torch.Tensor | WordOutput:
        """Segmented: (B, U, V+T) logits per morpheme. Words (for training):
        a :class:`WordOutput` for every word in the batch, in reading order,
        with ``teacher`` (W, S) the previous-label inputs."""
        states, translation = self.encode(batch)
        if batch.mode == SEGMENTED:
            pooled = torch.cat([_pool_spans(states, batch.unit_spans), self._forms(batch)], dim=-1)
            morphemes = torch.tanh(self.morpheme_projection(pooled))
            lengths = batch.unit_mask.sum(-1)
            morphemes = self.dropout(self.morpheme_context(morphemes, lengths))
            return self._scores(morphemes, translation, batch.translation_mask)
        if teacher is None:
            raise ValueError("word mode needs teacher inputs in training; use decode_words to gloss")
        return self._teacher_forced(self.start_words(batch, encoded=(states, translation)), teacher)

    def encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Character states of the sentences and vectors of their translation words."""
        return self._encode_chars(batch), self._encode_translation(batch)

    def decode_words(self, batch: Batch, needed: torch.Tensor | None = None,
                     encoded: tuple[torch.Tensor, torch.Tensor] | None = None, beams: int = 1) -> WordDecoding:
        """Decoding of every word of a words-mode batch (in reading order), or
        only of the ``needed`` ones (W,) bool; skipped words get no labels.
        ``encoded``: the batch's :meth:`encode`, if already computed.
        ``beams``: 1 decodes greedily, more searches that many label
        sequences per word (:func:`beam_words`)."""
        words = self.start_words(batch, needed, encoded)
        if beams > 1:
            return beam_words(words.total, words.rows, words.chars.size(1), self.config.max_word_labels, beams,
                              _NetworkStepper(self, words))
        return greedy_words(words, self.config.max_word_labels, lambda step, previous: self.choose(words, step, previous),
                            lambda going, chosen: self.as_previous(chosen))

    def start_words(self, batch: Batch, needed: torch.Tensor | None = None,
                    encoded: tuple[torch.Tensor, torch.Tensor] | None = None) -> WordState:
        """The decoder's start state for every word of a words-mode batch (in
        reading order), or for the ``needed`` ones (W,) bool; ``encoded``: the
        batch's :meth:`encode`, if already computed."""
        states, translation = encoded or self.encode(batch)
        sentence, word = batch.unit_mask.nonzero(as_tuple=True)
        total = len(sentence)
        rows = torch.arange(total) if needed is None else needed.nonzero(as_tuple=True)[0]
        sentence, word = sentence[rows], word[rows]
        spans = batch.unit_spans[sentence, word]                             # (W, 2)
        longest = int((spans[:, 1] - spans[:, 0]).max().clamp(min=1)) if len(rows) else 1
        offsets = spans[:, :1] + torch.arange(longest, device=states.device)  # (W, Lw)
        char_mask = offsets < spans[:, 1:]
        chars = states[sentence[:, None], offsets.clamp(max=states.size(1) - 1)]   # (W, Lw, D)
        forms = self._forms(batch)[sentence, word]
        local_spans = torch.stack([torch.zeros_like(spans[:, 0]), spans[:, 1] - spans[:, 0]], -1)[:, None, :]
        start = torch.cat([_pool_spans(chars, local_spans)[:, 0], forms], dim=-1)
        context = (chars * char_mask[..., None]).sum(1) / char_mask.sum(1, keepdim=True).clamp(min=1)
        return WordState(rows, total, chars, char_mask, self.decoder_attention(chars), torch.tanh(self.decoder_start(start)),
                      context, translation[sentence], batch.translation_mask[sentence])

    def step(self, words: WordState, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoder step for every word in ``words`` (updated in place), each
        reading its ``previous`` label (W,): label scores (W, V+T) and where it looked (W, Lw)."""
        words.hidden = self.decoder(torch.cat([self.label_embedding(previous), words.context], dim=-1), words.hidden)
        weights = torch.einsum("wd,wld->wl", words.hidden, words.keys).masked_fill(~words.char_mask, NEG_INF).softmax(-1)
        words.context = torch.einsum("wl,wld->wd", weights, words.chars)
        unit = torch.tanh(self.decoder_output(torch.cat([words.hidden, words.context], dim=-1)))
        return self._scores(unit[:, None, :], words.translation, words.translation_mask)[:, 0], weights

    def _teacher_forced(self, words: WordState, teacher: torch.Tensor) -> WordOutput:
        previous = torch.zeros(len(words.rows), dtype=torch.long)  # 0: start/end marker
        logits, attention = [], []
        for step in range(teacher.size(1)):
            scores, weights = self.step(words, previous)
            logits.append(scores)
            attention.append(weights)
            previous = teacher[:, step]
        return WordOutput(torch.stack(logits, 1), torch.stack(attention, 1), words.char_mask)

    def choose(self, words: WordState, step: int, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One greedy step (see :func:`greedy_words`): the best label of every
        word in ``words``, its probability, and where the decoder looked."""
        scores, weights = self.step(words, previous)
        mask_word_scores(scores, step)
        best, choice = scores.max(-1)
        return choice, (best - scores.logsumexp(-1)).exp(), weights

    def as_previous(self, choice: torch.Tensor) -> torch.Tensor:
        """Chosen outputs as the next step's previous labels: copies enter as <unk>."""
        return choice.where(choice < self.config.labels, torch.ones_like(choice))


def mask_word_scores(scores: torch.Tensor, step: int) -> torch.Tensor:
    """Never <unk>, and at least one label per word (no end marker at step 0)."""
    scores[:, 1] = NEG_INF
    if step == 0:
        scores[:, 0] = NEG_INF
    return scores


#: One greedy step: (step, previous labels) -> chosen outputs, their probabilities, attention.
Chooser = Callable[[int, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def greedy_words(words: WordState, steps: int, choose: Chooser,
                 advance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> WordDecoding:
    """Greedy decoding of the words in ``words``: ``choose`` picks each
    step's outputs; a word leaves the batch once it has ended (``words``
    shrinks in place), so later steps cost less. ``advance(going, choice)``
    turns the chosen outputs of the words still going into the next
    step's previous labels and shrinks any other state it keeps (default:
    the chosen outputs themselves)."""
    labels = torch.full((words.total, steps), -1, dtype=torch.long)
    confidence = torch.zeros(words.total, steps)
    attention = torch.zeros(words.total, steps, words.chars.size(1))
    previous = torch.zeros(len(words.rows), dtype=torch.long)  # 0: start marker
    for step in range(steps):
        if not len(words.rows):
            break
        choice, probability, looked = choose(step, previous)
        labels[words.rows, step] = choice
        confidence[words.rows, step] = probability
        attention[words.rows, step, : looked.size(1)] = looked
        going = choice != 0
        previous = advance(going, choice[going]) if advance else choice[going]
        words.keep(going)
    return WordDecoding(labels, confidence, attention)


class Stepper(Protocol):
    """The decoder state of a set of word hypotheses, for :func:`beam_words`."""

    def log_probs(self, step: int, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Feed each hypothesis its ``previous`` output (N,) (0 at the start):
        log-probabilities of its next output (N, V+T), masked as
        :func:`mask_word_scores` does, and where it looked in its word (N, Lw)."""

    def keep(self, rows: torch.Tensor) -> None:
        """Keep (and repeat) these hypotheses, in this order."""


class _NetworkStepper:
    def __init__(self, network: GlossingNetwork, words: WordState):
        self.network, self.words = network, words

    def log_probs(self, step: int, previous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores, weights = self.network.step(self.words, self.network.as_previous(previous))
        return mask_word_scores(scores, step).log_softmax(-1), weights

    def keep(self, rows: torch.Tensor) -> None:
        self.words.keep(rows)


def beam_words(total: int, rows: torch.Tensor, width: int, steps: int, beams: int, stepper: Stepper) -> WordDecoding:
    """Beam search over the label sequences of the words ``rows`` (of
    ``total``; ``width`` characters at most): each keeps the ``beams`` most
    probable unfinished sequences, and its answer is the most probable
    finished one (no length normalisation: every label costs its own
    probability). A word stops once no unfinished sequence can beat its best
    finished one; a sequence still going after ``steps`` labels ends there,
    as in greedy decoding. Confidences are each chosen label's probability
    given the labels before it, as in greedy decoding."""
    labels = torch.full((total, steps), -1, dtype=torch.long)
    confidence = torch.zeros(total, steps)
    attention = torch.zeros(total, steps, width)
    if not len(rows):
        return WordDecoding(labels, confidence, attention)
    going = rows.clone()                                    # (R,) words still searching
    count = len(going)
    stepper.keep(torch.arange(count).repeat_interleave(beams))
    score = torch.full((count, beams), NEG_INF)
    score[:, 0] = 0.0                                       # one live hypothesis per word to start
    path = torch.full((count, beams, steps), -1, dtype=torch.long)
    path_probs = torch.zeros(count, beams, steps)
    path_looked = torch.zeros(count, beams, steps, width)
    best = torch.full((total,), float("-inf"))              # best finished score per word
    previous = torch.zeros(count * beams, dtype=torch.long)
    for step in range(steps):
        log_probs, looked = stepper.log_probs(step, previous)
        outputs = log_probs.size(-1)
        log_probs = log_probs.view(count, beams, outputs)
        looked = looked.view(count, beams, -1)
        extended = (score[..., None] + log_probs).view(count, beams * outputs)
        candidates, index = extended.topk(min(2 * beams, beams * outputs), dim=-1)
        source, output = index // outputs, index % outputs
        last = step == steps - 1
        # Finished here: the end marker, or any output at the last step.
        ends = (output == 0) | last
        finished = candidates.masked_fill(~ends, float("-inf"))
        value, pick = finished.max(-1)
        better = (value > best[going]) & (value > NEG_INF / 2)
        if better.any():
            where = better.nonzero(as_tuple=True)[0]
            word = going[where]
            b = source[where, pick[where]]
            o = output[where, pick[where]]
            best[word] = value[where]
            labels[word] = path[where, b]
            labels[word, step] = o
            confidence[word] = path_probs[where, b]
            confidence[word, step] = log_probs[where, b, o].exp()
            attention[word] = path_looked[where, b]
            attention[word, step] = looked[where, b]
        if last:
            break
        # The best unfinished continuations (ends sort last, so the first ``beams`` live ones).
        live = candidates.masked_fill(ends, float("-inf"))
        order = live.argsort(dim=-1, descending=True)[:, :beams]
        score = live.gather(1, order).clamp(min=NEG_INF)
        source, output = source.gather(1, order), output.gather(1, order)
        path, path_probs, path_looked = (_from_beams(t, source) for t in (path, path_probs, path_looked))
        path[:, :, step] = output
        path_probs[:, :, step] = _from_beams(log_probs, source).gather(2, output[..., None])[..., 0].exp()
        path_looked[:, :, step] = _from_beams(looked, source)
        # Words whose best finished sequence no live one can beat are done.
        leading = score.max(-1).values
        searching = (leading > best[going]) & (leading > NEG_INF / 2)
        hypotheses = (torch.arange(count)[:, None] * beams + source)[searching].reshape(-1)
        stepper.keep(hypotheses)
        going, score, path = going[searching], score[searching], path[searching]
        path_probs, path_looked = path_probs[searching], path_looked[searching]
        previous = output[searching].reshape(-1)
        count = len(going)
        if not count:
            break
    return WordDecoding(labels, confidence, attention)


def _from_beams(values: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """Rows of ``values`` (R, K, ...) taken from the beams ``source`` (R, K) of each word, as a new tensor."""
    index = source.view(*source.shape, *([1] * (values.dim() - 2))).expand(-1, -1, *values.shape[2:])
    return values.gather(1, index)


@dataclass
class WordState:
    """The words being decoded and their decoder state (rows of the batch's word list)."""
    rows: torch.Tensor               # (W,) which of the batch's words
    total: int                       # how many words the batch has
    chars: torch.Tensor              # (W, Lw, D) the word's character states
    char_mask: torch.Tensor          # (W, Lw)
    keys: torch.Tensor               # (W, Lw, D) attention keys
    hidden: torch.Tensor             # (W, D) decoder state
    context: torch.Tensor            # (W, D) last attention read-out
    translation: torch.Tensor        # (W, T, Dt) the sentence's translation words
    translation_mask: torch.Tensor   # (W, T)

    def keep(self, rows: torch.Tensor) -> None:
        for name in ("rows", "chars", "char_mask", "keys", "hidden", "context", "translation", "translation_mask"):
            setattr(self, name, getattr(self, name)[rows])


@dataclass
class WordOutput:
    logits: torch.Tensor      # (W, S, V+T): label scores per decoding step; label 0 ends the word
    attention: torch.Tensor   # (W, S, Lw): where each step looked in the word
    char_mask: torch.Tensor   # (W, Lw)


@dataclass
class WordDecoding:
    labels: torch.Tensor      # (W, S): chosen label per step, 0 ends the word, -1 after the end or not decoded
    confidence: torch.Tensor  # (W, S): probability of each chosen label
    attention: torch.Tensor   # (W, S, Lw): where each step looked in the word


def segmented_loss(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Negative log of the summed probability of each morpheme's acceptable outputs."""
    width = max((len(options) for targets in batch.targets for options in targets), default=0)
    if width == 0:
        return logits.sum() * 0
    units = logits.size(1)
    index = torch.zeros(len(batch.targets), units, width, dtype=torch.long)
    valid = torch.zeros(len(batch.targets), units, width, dtype=torch.bool)
    for b, targets in enumerate(batch.targets):
        for u, options in enumerate(targets):
            index[b, u, : len(options)] = torch.tensor(options)
            valid[b, u, : len(options)] = True
    log_probs = logits.log_softmax(-1).gather(2, index).masked_fill(~valid, NEG_INF)
    has_target = valid.any(-1)
    return -torch.logsumexp(log_probs, dim=-1)[has_target].mean()


def word_teacher_inputs(batch: Batch, labels: int) -> torch.Tensor:
    """(W, S) previous-label inputs for teacher forcing: each word's gold labels
    (copied words enter as <unk>), then the end marker 0."""
    sequences = [[options[0] if options[0] < labels else 1 for options in word] + [0]
                 for sentence in batch.targets for word in sentence]
    width = max(len(s) for s in sequences)
    return torch.tensor([s + [0] * (width - len(s)) for s in sequences], dtype=torch.long)


def word_loss(output: WordOutput, batch: Batch) -> torch.Tensor:
    """Cross-entropy of each word's label sequence and end marker (copy outputs marginalised)."""
    sequences = [word + [[0]] if word else [] for sentence in batch.targets for word in sentence]
    steps = output.logits.size(1)
    width = max((len(o) for s in sequences for o in s), default=1)
    index = torch.zeros(len(sequences), steps, width, dtype=torch.long)
    valid = torch.zeros(len(sequences), steps, width, dtype=torch.bool)
    for w, sequence in enumerate(sequences):
        for step, options in enumerate(sequence[:steps]):
            index[w, step, : len(options)] = torch.tensor(options)
            valid[w, step, : len(options)] = True
    log_probs = output.logits.log_softmax(-1).gather(2, index).masked_fill(~valid, NEG_INF)
    has_target = valid.any(-1)
    if not has_target.any():
        return output.logits.sum() * 0
    return -torch.logsumexp(log_probs, dim=-1)[has_target].mean()
