"""Agents built on the plugin (`verification.livekit`), runnable from a checkout or the wheel."""
