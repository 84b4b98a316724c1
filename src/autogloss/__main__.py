"""``python -m autogloss`` runs the command line."""

from .cli import main

main()
