"""Adapters that run framing inside other engines (``framing.integrations.ray``: Ray Data)."""
