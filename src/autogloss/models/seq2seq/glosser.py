"""The seq2seq glosser: a byte-level T5 (ByT5, GlossLM) behind the :class:`Glosser` interface.

A model directory is an ordinary Hugging Face one, loadable by
``transformers`` alone: ``config.json`` (a T5 config), ``model.safetensors``,
``generation_config.json``, the ByT5 tokenizer files, plus autogloss's own
``autogloss.json`` (generation settings, training summary) and ``README.md``.
A directory without ``autogloss.json`` (``lecslab/glosslm`` itself) loads
with the default settings. A LoRA adapter directory holds only the adapter
(``adapter_config.json``, ``adapter_model.safetensors``), ``autogloss.json``
naming its base model, and a small ``config.json`` with ``model_type``
``seq2seq`` so that it loads like any other autogloss model.
"""

from __future__ import annotations

import codecs
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ...errors import ModelError
from ...records import GlossedRecord, IGTRecord, word_morphemes
from ..base import CONFIG_NAME, Glosser, ModelConfig, Settings, card, hub_snapshot, is_hub_id, read_json_object, write_json
from .prompt import PromptInput, align_glosses, build_prompt, prompt_input

SETTINGS_NAME = "autogloss.json"
ADAPTER_CONFIG_NAME = "adapter_config.json"
BYTE_OFFSET = 3  # ByT5 ids: 0 pad, 1 end, 2 unknown, then byte b as b + 3
BYTE_VOCABULARY = 256 + BYTE_OFFSET
BYT5_VOCAB_SIZE = 384  # the bytes and specials plus 125 sentinel ids, as every ByT5 checkpoint has
RECORDS_PER_CHUNK = 512  # records read ahead, sorted by length into batches


@dataclass
class GenerationSettings(Settings):
    """How a seq2seq glosser writes its output (saved in ``autogloss.json``).

    The most new bytes for a record is ``length_factor`` times its input
    line's bytes plus ``length_margin`` (at most ``max_output_bytes``): on the
    SIGMORPHON 2023 data no gloss line is longer than 3x its line + 32 bytes.
    """

    beams: int = 3  # GlossLM's setting; 1 is greedy search
    batch_size: int = 16
    length_factor: float = 3.0
    length_margin: int = 32
    max_output_bytes: int = 1024
    max_input_bytes: int = 1024  # longer prompts are cut, as in GlossLM's training

    ignore_unknown = True  # settings of a newer autogloss

    def max_new_tokens(self, sources: list[PromptInput]) -> int:
        longest = max(len(source.text.encode("utf-8")) for source in sources)
        return min(self.max_output_bytes, math.ceil(self.length_factor * longest) + self.length_margin)


def quiet_transformers() -> None:
    """No download progress bars or load reports between our own messages."""
    import warnings

    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    # Deprecation notices about transformers' own internals (raised from peft) mean nothing to a user.
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")


def byte_tokenizer():
    """The ByT5 tokenizer: UTF-8 bytes, built in code, nothing to download."""
    from transformers import ByT5Tokenizer

    return ByT5Tokenizer()


def new_t5(d_model: int = 256, layers: int = 4, decoder_layers: int | None = None, heads: int = 4,
           d_ff: int | None = None, d_kv: int | None = None, dropout: float = 0.1):
    """A randomly initialised byte-level T5 (ByT5's vocabulary and gated-GELU
    feed-forward layers), e.g. to train from scratch.

    transformers 5 ties every T5's output layer to its input embedding; a
    tied model needs T5's original d_model^-0.5 scaling of the decoder
    output (left on here), or its first logits spread over sqrt(d_model) and
    training starts from a loss near 150 instead of ln(384) = 6.
    """
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(vocab_size=BYT5_VOCAB_SIZE, d_model=d_model, d_ff=d_ff or 2 * d_model,
                      d_kv=d_kv or max(d_model // heads, 8), num_layers=layers,
                      num_decoder_layers=decoder_layers or layers, num_heads=heads, dropout_rate=dropout,
                      feed_forward_proj="gated-gelu", pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    return T5ForConditionalGeneration(config)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _check_byte_level(model, where: str) -> None:
    config = model.config
    if getattr(config, "is_encoder_decoder", False) is not True:
        raise ModelError(f"{where}: not an encoder-decoder model (model_type '{config.model_type}')")
    if config.vocab_size < BYTE_VOCABULARY:
        raise ModelError(f"{where}: vocabulary of {config.vocab_size} ids cannot be byte-level "
                         f"(ByT5 needs at least {BYTE_VOCABULARY})")


def _check_tokenizer_files(directory: Path) -> None:
    """Refuse a T5 that was trained with another tokenizer (e.g. t5-small's
    SentencePiece vocabulary): bytes in, nonsense out."""
    path = directory / "tokenizer_config.json"
    if path.is_file():
        try:
            declared = json.loads(path.read_text(encoding="utf-8")).get("tokenizer_class")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return
        if declared and declared not in ("ByT5Tokenizer", "ByT5TokenizerFast"):
            raise ModelError(f"{directory}: uses the tokenizer {declared}; the seq2seq backend reads "
                             f"bytes (ByT5Tokenizer) only")
    if (directory / "spiece.model").is_file():
        raise ModelError(f"{directory}: has a SentencePiece vocabulary (spiece.model); the seq2seq backend "
                         f"reads bytes (ByT5Tokenizer) only")


def load_hf_model(name: str | Path):
    """A seq2seq language model from a local directory or a hub id (see
    :func:`~autogloss.models.base.hub_snapshot`), through ``transformers``."""
    from transformers import AutoModelForSeq2SeqLM

    quiet_transformers()
    if is_hub_id(name):
        name = hub_snapshot(str(name), "not a loadable seq2seq model directory, and loading it from the Hugging Face "
                                       "hub failed", Seq2SeqGlosser.hub_files)
    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(str(name))
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        local = Path(name).is_dir()
        what = "model directory" if local else "model directory, and loading it from the Hugging Face hub failed"
        raise ModelError(f"{name}: not a loadable seq2seq {what} ({_first_line(error)})") from None
    _check_byte_level(model, str(name))
    return model


@dataclass
class Seq2SeqConfig(ModelConfig):
    """autogloss's settings of a seq2seq model, in ``autogloss.json`` beside
    the Hugging Face ``config.json``: generation, training summary and, for
    a LoRA adapter, its base model. Without the file the defaults apply."""

    model_type = "seq2seq"
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    info: dict = field(default_factory=dict)
    base_model: str | None = None

    def to_dict(self) -> dict:
        saved = {key: value for key, value in super().to_dict().items() if key != "model_type"}  # config.json's
        if self.base_model is None:
            del saved["base_model"]
        return saved

    @classmethod
    def read(cls, directory: Path, config: dict) -> Seq2SeqConfig:
        path = directory / SETTINGS_NAME
        saved = read_json_object(path, "autogloss settings") if path.is_file() else {}
        return cls(GenerationSettings.from_dict(saved.get("generation", {})), saved.get("info") or {},
                   saved.get("base_model"))


def _adapter_base(directory: Path, saved: Seq2SeqConfig) -> str:
    base = saved.base_model
    if not base:
        adapter = json.loads((directory / ADAPTER_CONFIG_NAME).read_text(encoding="utf-8"))
        base = adapter.get("base_model_name_or_path")
    if not base:
        raise ModelError(f"{directory}: LoRA adapter without a base model (no 'base_model' in {SETTINGS_NAME})")
    return str(base)


class Seq2SeqGlosser(Glosser):
    """A byte-level encoder-decoder that writes the gloss line from the GlossLM prompt."""

    model_type = "seq2seq"
    records_per_chunk = RECORDS_PER_CHUNK
    # a prompt is cut at max_input_bytes (1,024 by default): a window of a long sentence should fit
    window_words = 64

    def __init__(self, model, settings: GenerationSettings | None = None, info: dict | None = None,
                 base_model: str | None = None, source: str | None = None):
        self.model = model  # a transformers model, or a peft model wrapping one (LoRA)
        self.settings = settings or GenerationSettings()
        self.info = info or {}
        self.base_model = base_model  # for adapters: the model they sit on, as a path or hub id
        self.source = source  # where this model was loaded from (path or hub id), if it was
        self.tokenizer = byte_tokenizer()
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    @property
    def is_adapter(self) -> bool:
        return hasattr(self.model, "peft_config")

    # -- loading ---------------------------------------------------------------------------
    model_types = ("*",)  # any byte-level encoder-decoder directory (checked when loaded)
    config_name = SETTINGS_NAME
    hub_files = ["*.json", "*.safetensors", "*.md"]

    @classmethod
    def _read_config(cls, directory: Path) -> dict:
        """Hugging Face directories are checked by ``transformers``, adapters by ``peft``."""
        if not directory.exists():
            raise ModelError(f"{directory}: no such model directory")
        if not directory.is_dir():
            raise ModelError(f"{directory}: a model is a directory, not a file")
        return {}

    @classmethod
    def _load(cls, directory: Path, config: dict) -> Seq2SeqGlosser:
        saved = Seq2SeqConfig.read(directory, config)
        if (directory / ADAPTER_CONFIG_NAME).is_file():
            from peft import PeftModel

            base_name = _adapter_base(directory, saved)
            _check_local_base(base_name, directory)
            base = load_hf_model(base_name)
            try:
                model = PeftModel.from_pretrained(base, str(directory))
            except (OSError, ValueError, KeyError, RuntimeError) as error:
                raise ModelError(f"{directory}: LoRA adapter does not load on {base_name} ({_first_line(error)})") from None
            return cls(model, saved.generation, saved.info, base_model=base_name)
        if not (directory / CONFIG_NAME).is_file():
            raise ModelError(f"{directory}: not a model directory (no {CONFIG_NAME} and no {ADAPTER_CONFIG_NAME})")
        _check_tokenizer_files(directory)
        return cls(load_hf_model(directory), saved.generation, saved.info)

    def configure(self, *, beams: int | None = None, lexicon: bool = True) -> None:
        if beams:
            self.settings.beams = beams

    # -- glossing ---------------------------------------------------------------------------
    def _gloss_chunk(self, records: list[IGTRecord]) -> list[GlossedRecord]:
        """Batches of similar length (less padding), results in input order."""
        order = sorted(range(len(records)), key=lambda i: len(build_prompt(records[i]).encode("utf-8")))
        results: list[GlossedRecord | None] = [None] * len(records)
        size = self.settings.batch_size
        for start in range(0, len(order), size):
            chosen = order[start:start + size]
            for index, output in zip(chosen, self.gloss_batch([records[i] for i in chosen])):
                results[index] = output
        return results  # type: ignore[return-value]

    def generate(self, prompts: list[str], max_new_tokens: int) -> tuple[list[str], list[list[float]]]:
        """Generated texts and, for each, the log-probability of every character."""
        self.model.to(self.device)
        self.model.eval()
        inputs = self.tokenizer(prompts, padding=True, truncation=True, max_length=self.settings.max_input_bytes,
                                return_tensors="pt").to(self.device)
        with torch.inference_mode():
            output = self.model.generate(**inputs, num_beams=self.settings.beams, do_sample=False,
                                         max_new_tokens=max_new_tokens, output_scores=True,
                                         return_dict_in_generate=True)
            # Beam scores are already log-probabilities; normalising them again changes nothing.
            scores = self.model.compute_transition_scores(output.sequences, output.scores,
                                                          getattr(output, "beam_indices", None),
                                                          normalize_logits=True)
        texts, char_scores = [], []
        for tokens, token_scores in zip(output.sequences[:, 1:].tolist(), scores.tolist()):
            text, per_char = _decode_bytes(tokens, token_scores)
            texts.append(text)
            char_scores.append(per_char)
        return texts, char_scores

    def gloss_batch(self, records: list[IGTRecord]) -> list[GlossedRecord]:
        sources = [prompt_input(record) for record in records]
        texts, char_scores = self.generate([build_prompt(r) for r in records], self.settings.max_new_tokens(sources))
        outputs = []
        for record, source, text, per_char in zip(records, sources, texts, char_scores):
            aligned = align_glosses(source, text)
            confidence = _morpheme_confidences(text, per_char)
            confidences = [[round(confidence[s[0]][s[1]], 4) if s is not None else 0.0 for s in word]
                           for word in aligned.sources]
            outputs.append(GlossedRecord(record.replace(glosses=aligned.glosses), confidences, tuple(aligned.repairs)))
        return outputs

    # -- saving ----------------------------------------------------------------------------
    def config(self) -> Seq2SeqConfig:
        return Seq2SeqConfig(self.settings, self.info, self.base_model if self.is_adapter else None)

    def _save_files(self, staging: Path) -> None:
        """The full model in the Hugging Face layout, or for a LoRA model only
        the adapter and a ``config.json`` that names its base."""
        model = self.model.module if hasattr(self.model, "module") else self.model
        model.save_pretrained(str(staging))
        if self.is_adapter:
            write_json(staging / CONFIG_NAME, {"model_type": self.model_type, "adapter": ADAPTER_CONFIG_NAME,
                                               "base_model": self.base_model})
        else:
            self.tokenizer.save_pretrained(str(staging))

    def model_card(self) -> str:
        return model_card(self)


def _check_local_base(base_name: str, adapter_dir: Path) -> None:
    if not Path(base_name).exists() and not is_hub_id(base_name):
        raise ModelError(f"{adapter_dir}: its base model {base_name} is not there (moved or deleted?)")


def _decode_bytes(tokens: list[int], token_scores: list[float]) -> tuple[str, list[float]]:
    """Text of generated ByT5 ids up to the end id, and each character's
    log-probability (the mean over its UTF-8 bytes). Bytes that do not form
    UTF-8 are dropped, as the tokenizer's own decoding does."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
    text: list[str] = []
    per_char: list[float] = []
    pending: list[float] = []
    for token, score in zip(tokens, token_scores):
        if token == 1:  # end of sequence
            break
        if not BYTE_OFFSET <= token < BYTE_VOCABULARY:
            continue  # padding or a sentinel: no text
        pending.append(score)
        chars = decoder.decode(bytes([token - BYTE_OFFSET]))
        if chars:
            text.append(chars)
            per_char += [sum(pending) / len(pending)] * len(chars)
            pending = []
    return "".join(text), per_char


def _morpheme_confidences(text: str, per_char: list[float]) -> list[list[float]]:
    """Per generated word, per morpheme: the geometric-mean probability of its characters."""
    result: list[list[float]] = []
    position = 0
    for word in text.split():
        start = text.index(word, position)
        position = start + len(word)
        confidences, offset = [], start
        for morpheme in word_morphemes(word):
            scores = per_char[offset:offset + len(morpheme)]
            confidences.append(math.exp(sum(scores) / len(scores)) if scores else 0.0)
            offset += len(morpheme) + 1  # the boundary marker
        result.append(confidences)
    return result


def model_card(glosser: Seq2SeqGlosser) -> str:
    info = glosser.info
    model = glosser.model
    config = model.config if hasattr(model, "config") else None
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    scores = info.get("dev_scores") or {}
    score_lines = "\n".join(f"- {k}: {v:.2f}" if isinstance(v, float) else f"- {k}: {v}" for k, v in scores.items())
    shape = (f"T5, d_model {config.d_model}, {config.num_layers} encoder / {config.num_decoder_layers} decoder "
             f"layers, {config.num_heads} heads" if config is not None and hasattr(config, "d_model") else "T5")
    kind = (f"A LoRA adapter ({trainable:,} trainable parameters) on the base model `{glosser.base_model}`; "
            f"this directory holds only the adapter." if glosser.is_adapter
            else f"A byte-level seq2seq glosser ({parameters:,} parameters).")
    return card(["interlinear-glossed-text", "glossing", "byt5", "t5", "glosslm"], f"""# autogloss seq2seq glosser

{kind} It reads the GlossLM prompt (language, transcription, whether it is segmented,
translation) as UTF-8 bytes and writes the gloss line; autogloss aligns the output with the input.

- Architecture: {shape}
- Training data: {info.get("trained_on", "unspecified")}
- Initialised from: {info.get("initialised_from", "unspecified")}
- Training: {info.get("training", "unspecified")}
- Generation: {glosser.settings.beams} beam(s)

## Dev scores (official SIGMORPHON 2023 scorer and chrF++, percent)

{score_lines or "not recorded"}

Load with `autogloss gloss --backend seq2seq --model PATH` or `autogloss.models.load_model(path)`.
""")
