"""String-to-id vocabularies of characters, gloss labels and languages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

PAD = "<pad>"   # id 0: padding, and the CTC blank for label vocabularies
UNK = "<unk>"   # id 1: anything unseen


class Vocabulary:
    """An ordered list of tokens; ids 0 and 1 are padding/blank and unknown."""

    def __init__(self, tokens: Iterable[str] = ()):
        self.itos: list[str] = [PAD, UNK]
        self.stoi: dict[str, int] = {PAD: 0, UNK: 1}
        for token in tokens:
            self.add(token)

    @classmethod
    def from_counts(cls, counts: Counter, min_count: int = 1, max_size: int | None = None) -> Vocabulary:
        kept = [token for token, count in counts.most_common(max_size) if count >= min_count]
        return cls(sorted(kept, key=lambda t: (-counts[t], t)))

    def add(self, token: str) -> int:
        if token not in self.stoi:
            self.stoi[token] = len(self.itos)
            self.itos.append(token)
        return self.stoi[token]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def id(self, token: str) -> int:
        return self.stoi.get(token, 1)

    def token(self, index: int) -> str:
        return self.itos[index]

    def to_json(self) -> list[str]:
        return self.itos[2:]

    @classmethod
    def from_json(cls, tokens: list[str]) -> Vocabulary:
        return cls(tokens)
