"""Delivery of the outbox: resolve recipients to chats, render, and hand to each channel's sender."""
