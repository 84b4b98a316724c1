"""The seq2seq backend: GlossLM-compatible byte-level T5 glossers (ByT5, GlossLM).

``prompt`` builds the GlossLM prompt and repairs outputs (no heavy imports);
``glosser`` runs, saves and loads models; ``training`` fine-tunes, pretrains
and trains them (optionally with LoRA, in several processes). Those two
import ``transformers``, so they are only imported when used.
"""

from .prompt import align_glosses, build_prompt, build_target, declare_segmented, prompt_input

__all__ = ["align_glosses", "build_prompt", "build_target", "declare_segmented", "prompt_input"]
