"""Taizhang (台账): command and ledger system for a rectification campaign."""
