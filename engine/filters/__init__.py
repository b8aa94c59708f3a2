"""Make-compatible link filters: OR-groups of AND-conditions over mapped values."""
