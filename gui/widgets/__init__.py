"""The app's widgets: views that are given melodies and configs and emit signals (no torch, no files)."""
