"""Transport adapters: each turns its platform's events into commands and replies back."""
