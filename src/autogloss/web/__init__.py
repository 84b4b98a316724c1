"""The post-editing web app: ``autogloss serve``."""

from __future__ import annotations

from .app import ServerSettings, create_app


def run_server(settings: ServerSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the post-editor until interrupted; it answers to the loopback
    names and to ``host`` on ``port`` only."""
    import uvicorn

    uvicorn.run(create_app(settings.listening(host, port)), host=host, port=port, log_level="warning")


__all__ = ["ServerSettings", "create_app", "run_server"]
