"""The incident domain: free of any chat platform, database or model library."""
