"""Jamie's own libraries: code the chat bot builds on but that knows nothing of chat."""
