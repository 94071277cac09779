"""Jamie's chat-ops side: the incident domain, commands, transports, storage, scheduling."""
