"""50 concurrent gloss requests to a real `autogloss serve` on loopback: all must succeed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.post_editor_load import run_load, running_server, train_tsez_model  # noqa: E402


def test_fifty_concurrent_gloss_requests_all_succeed(tmp_path):
    model = train_tsez_model(tmp_path)
    with running_server([f"tsez={model}"], tmp_path / "corrections.jsonl") as url:
        result = run_load(url, "tsez", requests=50)
    print(result.summary())
    assert result.failures == [] and result.succeeded == 50
    assert result.total_seconds < 60
