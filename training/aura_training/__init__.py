"""AURA training side: corpus, encoders, losses, pretraining, distillation, evaluation (torch)."""

__all__: list[str] = []
