"""Local STS: who the caller is (the fixed local account)."""
