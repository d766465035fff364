"""Ticket workflows: planning actions with the ticket (engine), running them durably (runner), the actions."""
